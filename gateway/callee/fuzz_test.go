package callee_test

import (
	"regexp"
	"testing"

	"github.com/callgate/callgate/gateway/callee"
)

var e164RE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// FuzzNormalize: whatever a CRM or a person types, Normalize gives E.164
// or an error, never panics, and its output normalises to itself.
func FuzzNormalize(f *testing.F) {
	for _, s := range []struct{ raw, region string }{
		{"+919876543210", "IN"}, {"98765 43210", "IN"}, {"0044 20 7123 4567", "US"}, {"(415) 555-0123", "us"},
		{"", "IN"}, {"+", "ZZ"}, {"00", "IN"}, {"+1 800 555 1234", ""}, {"tel:+14155550123", "US"},
	} {
		f.Add(s.raw, s.region)
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := callee.Normalize(raw, region)
		if err != nil {
			if got != "" {
				t.Fatalf("Normalize(%q, %q) = %q with error %v", raw, region, got, err)
			}
			return
		}
		if !e164RE.MatchString(got) {
			t.Fatalf("Normalize(%q, %q) = %q, not E.164", raw, region, got)
		}
		if again, err := callee.Normalize(got, "ZZ"); err != nil || again != got {
			t.Fatalf("Normalize(%q) = %q, %v; want it unchanged", got, again, err)
		}
		// A number's timezone never panics and never names an old zone.
		if name, ok, _ := callee.NumberTimezone(got); ok && callee.Canonical(name) != name {
			t.Fatalf("NumberTimezone(%q) = %q, an old name", got, name)
		}
	})
}

// FuzzResolve: a record's timezone comes from a CRM (hs_timezone) and a
// setting from a query string; whatever they hold, Resolve answers a
// loaded zone, current by name, or falls back with a note, never panics.
func FuzzResolve(f *testing.F) {
	for _, s := range []struct{ setting, contact, number string }{
		{"contact", "America/New_York", "+14155550123"}, {"contact", "america/port-au-prince", ""},
		{"contact", "Local", ""}, {"contact", "../../etc/passwd", ""}, {"callee", "", "+18005551234"},
		{"callee", "", "+919876543210"}, {"Asia/Calcutta", "", ""}, {"", "", ""},
	} {
		f.Add(s.setting, s.contact, s.number)
	}
	f.Fuzz(func(t *testing.T, setting, contact, number string) {
		z, err := callee.Resolve(setting, callee.Facts{Number: number, Contact: contact, Default: "UTC"})
		if err != nil {
			if callee.CheckSetting(setting) == nil {
				t.Fatalf("Resolve(%q) failed on an accepted setting: %v", setting, err)
			}
			return
		}
		if z.Location == nil || z.Location.String() != z.Name || callee.Canonical(z.Name) != z.Name {
			t.Fatalf("Resolve(%q, %q, %q) = %+v", setting, contact, number, z)
		}
		// The setting was followed exactly when there is no note.
		followed := true
		switch setting {
		case callee.FromContact:
			_, _, err := callee.Lookup(contact)
			followed = contact != "" && err == nil
		case callee.FromNumber:
			_, followed, _ = callee.NumberTimezone(number)
		}
		if followed != (z.Note == "") {
			t.Fatalf("Resolve(%q, %q, %q) = %+v: note and outcome disagree", setting, contact, number, z)
		}
	})
}
