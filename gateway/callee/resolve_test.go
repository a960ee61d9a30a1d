package callee_test

import (
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/callee"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		setting string
		facts   callee.Facts
		want    string
		note    string // "" means no note; else a part of it
		errHas  string
	}{
		{"empty is the agent's zone", "", callee.Facts{Agent: "America/Chicago", Default: "Asia/Kolkata"}, "America/Chicago", "", ""},
		{"empty without agent zone is the default", "", callee.Facts{Agent: "callee", Default: "Asia/Kolkata"}, "Asia/Kolkata", "", ""},
		{"iana name", "Europe/Paris", callee.Facts{Default: "Asia/Kolkata"}, "Europe/Paris", "", ""},
		{"old iana name", "Asia/Calcutta", callee.Facts{Default: "UTC"}, "Asia/Kolkata", "", ""},
		{"iana name any case", "europe/kyiv", callee.Facts{Default: "UTC"}, "Europe/Kyiv", "", ""},
		{"unknown name", "Mars/Base", callee.Facts{Default: "UTC"}, "", "", `timezone "Mars/Base"`},

		{"callee india", "callee", callee.Facts{Number: "+919876543210", Default: "UTC"}, "Asia/Kolkata", "", ""},
		{"callee us west", "callee", callee.Facts{Number: "+14155550123", Default: "UTC"}, "America/Los_Angeles", "", ""},
		{"callee london", "callee", callee.Facts{Number: "+442071234567", Default: "UTC"}, "Europe/London", "", ""},
		{"callee toll free falls back to the agent", "callee", callee.Facts{Number: "+18005551234", Agent: "America/Denver", Default: "Asia/Kolkata"},
			"America/Denver", "callee: the number is in several timezones", ""},
		{"callee toll free, agent follows the number too", "callee", callee.Facts{Number: "+18005551234", Agent: "callee", Default: "Asia/Kolkata"},
			"Asia/Kolkata", "called in the server's default timezone Asia/Kolkata", ""},
		{"callee invalid number", "callee", callee.Facts{Number: "12", Default: "Asia/Kolkata"}, "Asia/Kolkata", "not a number in E.164", ""},
		{"callee no number", "callee", callee.Facts{Default: "Asia/Kolkata"}, "Asia/Kolkata", "callee:", ""},

		{"contact good zone", "contact", callee.Facts{Contact: "America/New_York", Default: "Asia/Kolkata"}, "America/New_York", "", ""},
		{"contact zone in any case", "contact", callee.Facts{Contact: "America/Port-Au-Prince", Default: "UTC"}, "America/Port-au-Prince", "", ""},
		{"contact old zone", "contact", callee.Facts{Contact: "US/Eastern", Default: "UTC"}, "America/New_York", "", ""},
		{"contact without zone", "contact", callee.Facts{Agent: "Europe/Berlin", Default: "Asia/Kolkata"},
			"Europe/Berlin", "contact: the record has no timezone; called in the agent's timezone Europe/Berlin", ""},
		{"contact bad zone", "contact", callee.Facts{Contact: "Atlantis/Capital", Default: "Asia/Kolkata"},
			"Asia/Kolkata", `contact: the record's timezone "Atlantis/Capital" is not an IANA name; called in the server's default timezone Asia/Kolkata`, ""},
		{"contact without record", "contact", callee.Facts{NoRecord: true, Agent: "Asia/Dubai", Default: "UTC"},
			"Asia/Dubai", "contact: the call has no CRM record to read a timezone from; called in the agent's timezone Asia/Dubai", ""},
		{"contact local is no zone", "contact", callee.Facts{Contact: "Local", Default: "UTC"}, "UTC", "is not an IANA name", ""},

		{"bad agent zone skipped", "callee", callee.Facts{Number: "+18005551234", Agent: "Nowhere/Town", Default: "UTC"}, "UTC", "server's default", ""},
		{"no fallback at all", "contact", callee.Facts{}, "", "", "no timezone"},
		{"bad default", "", callee.Facts{Default: "Nowhere/Town"}, "", "", "default timezone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := callee.Resolve(tt.setting, tt.facts)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("Resolve(%q, %+v) = %+v, %v; want an error with %q", tt.setting, tt.facts, z, err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q, %+v): %v", tt.setting, tt.facts, err)
			}
			if z.Name != tt.want || z.Location == nil || z.Location.String() != tt.want {
				t.Errorf("zone %q (location %v), want %q", z.Name, z.Location, tt.want)
			}
			if (tt.note == "") != (z.Note == "") || !strings.Contains(z.Note, tt.note) {
				t.Errorf("note %q, want one with %q", z.Note, tt.note)
			}
		})
	}
}

func TestCheckSetting(t *testing.T) {
	for _, ok := range []string{"", "callee", "contact", "Asia/Kolkata", "asia/calcutta", "UTC"} {
		if err := callee.CheckSetting(ok); err != nil {
			t.Errorf("CheckSetting(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"Local", "local", "Callee", "IST", "Mars/Base", "+05:30"} {
		err := callee.CheckSetting(bad)
		if err == nil || !strings.Contains(err.Error(), "callee") || !strings.Contains(err.Error(), "contact") {
			t.Errorf("CheckSetting(%q) = %v; want an error naming the choices", bad, err)
		}
	}
}
