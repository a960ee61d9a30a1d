package callee_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/callgate/callgate/gateway/callee"
	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

func TestNumberTimezone(t *testing.T) {
	tests := []struct {
		number, want string
		ok           bool
		why          string
	}{
		{"+919876543210", "Asia/Kolkata", true, ""}, // phonenumbers says Asia/Calcutta
		{"+12125550123", "America/New_York", true, ""},
		{"+14155550123", "America/Los_Angeles", true, ""},
		{"+442071234567", "Europe/London", true, ""},
		{"+447911123456", "Europe/London", true, ""}, // listed with Guernsey, Jersey, Isle of Man
		{"+61412345678", "Australia/Sydney", true, ""},
		{"+84912345678", "Asia/Ho_Chi_Minh", true, ""},   // phonenumbers says Asia/Saigon
		{"+380441234567", "Europe/Kyiv", true, ""},       // phonenumbers says Europe/Kiev
		{"+9771234567", "Asia/Kathmandu", true, ""},      // phonenumbers says Asia/Katmandu
		{"+18005551234", "", false, "several timezones"}, // toll free: every US zone
		{"+18005550123", "", false, "several timezones"},
		{"+18665550123", "", false, "several timezones"}, // toll free, from Adak to Guam
		{"+14165550123", "America/Toronto", true, ""},
		{"+6281234567890", "Asia/Jakarta", true, ""},       // one zone of three in Indonesia, by prefix
		{"+999123456", "", false, "not a number in E.164"}, // no such country code
		{"+5511987654321", "America/Sao_Paulo", true, ""},
		{"not a number", "", false, "not a number in E.164"},
		{"", "", false, "not a number in E.164"},
	}
	for _, tt := range tests {
		t.Run(tt.number, func(t *testing.T) {
			got, ok, why := callee.NumberTimezone(tt.number)
			if got != tt.want || ok != tt.ok || !strings.Contains(why, tt.why) {
				t.Fatalf("NumberTimezone(%s) = %q, %v, %q; want %q, %v, …%q…", tt.number, got, ok, why, tt.want, tt.ok, tt.why)
			}
		})
	}
}

func TestLookupAndCanonical(t *testing.T) {
	tests := []struct{ in, want, errHas string }{
		{"Asia/Kolkata", "Asia/Kolkata", ""},
		{"Asia/Calcutta", "Asia/Kolkata", ""},
		{"asia/calcutta", "Asia/Kolkata", ""},
		{"America/Port-Au-Prince", "America/Port-au-Prince", ""},
		{"Us/Eastern", "America/New_York", ""},
		{"US/Pacific-New", "America/Los_Angeles", ""}, // gone from the database, still offered by HubSpot
		{"Europe/Kiev", "Europe/Kyiv", ""},
		{"Europe/Bratislava", "Europe/Bratislava", ""}, // Slovakia's zone: a link, not an old name
		{"Iceland", "Atlantic/Reykjavik", ""},
		{"UTC", "UTC", ""},
		{"Local", "", "not an IANA timezone name"},
		{"", "", "not an IANA timezone name"},
		{"Mars/Olympus_Mons", "", "not an IANA timezone name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			name, loc, err := callee.Lookup(tt.in)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("Lookup(%q) = %q, %v; want an error with %q", tt.in, name, err, tt.errHas)
				}
				return
			}
			if err != nil || name != tt.want || loc.String() != tt.want {
				t.Fatalf("Lookup(%q) = %q, %v, %v; want %q", tt.in, name, loc, err, tt.want)
			}
		})
	}
}

// TestEveryPhonenumbersZoneIsCurrent walks every zone nyaruka/phonenumbers
// can answer (its prefix-to-timezone data, read from the module), so no
// old name (Asia/Calcutta, Asia/Saigon, Europe/Kiev, …) reaches a call.
func TestEveryPhonenumbersZoneIsCurrent(t *testing.T) {
	zones := phonenumbersZones(t)
	if len(zones) < 250 {
		t.Fatalf("only %d zones found in phonenumbers' data", len(zones))
	}
	old := 0
	for _, z := range zones {
		if z == phonenumbers.UNKNOWN_TIMEZONE {
			continue
		}
		name, _, err := callee.Lookup(z)
		if err != nil {
			t.Errorf("phonenumbers zone %q: %v", z, err)
			continue
		}
		if name != z {
			old++
		}
		if callee.Canonical(name) != name {
			t.Errorf("phonenumbers zone %q reads as %q, still an old name", z, name)
		}
	}
	if old == 0 {
		t.Error("no old name found in phonenumbers' data: the walk did not reach Asia/Calcutta")
	}
	t.Logf("%d zones, %d of them old names", len(zones), old)
}

// phonenumbersZones are the zone names in phonenumbers' data file; without
// the go command (or the module source) every calling code with every
// three-digit prefix is asked instead.
func phonenumbersZones(t *testing.T) []string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/nyaruka/phonenumbers").Output()
	if err == nil {
		if zones, err := readZoneTable(filepath.Join(strings.TrimSpace(string(out)), "data", "prefix_to_timezone.xml.gz")); err == nil {
			return zones
		} else {
			t.Logf("phonenumbers' data: %v; walking prefixes instead", err)
		}
	}
	seen := map[string]bool{}
	var zones []string
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		for p := 0; p < 1000; p++ {
			zs, _ := phonenumbers.GetTimezonesForPrefix(fmt.Sprintf("%d%d", cc, p))
			for _, z := range zs {
				if !seen[z] {
					seen[z] = true
					zones = append(zones, z)
				}
			}
		}
	}
	return zones
}

// readZoneTable reads the interned names at the head of phonenumbers'
// prefix map: a little-endian uint32 length, then the names one per line.
func readZoneTable(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	if len(data) < 4 {
		return nil, fmt.Errorf("%s: too short", path)
	}
	n := binary.LittleEndian.Uint32(data)
	if int(n) > len(data)-4 {
		return nil, fmt.Errorf("%s: names run past the end", path)
	}
	return strings.Split(string(data[4:4+n]), "\n"), nil
}

// TestGeneratedZones checks zones_gen.go against the Go runtime's own
// database: every name loads, every old name's current one is current.
func TestGeneratedZones(t *testing.T) {
	for _, n := range callee.ZoneNames() {
		if _, err := time.LoadLocation(n); err != nil && callee.Canonical(n) == n {
			t.Errorf("%s: %v", n, err)
		}
		cur := callee.Canonical(n)
		if callee.Canonical(cur) != cur {
			t.Errorf("%s → %s, itself an old name", n, cur)
		}
		if _, err := time.LoadLocation(cur); err != nil {
			t.Errorf("%s → %s: %v", n, cur, err)
		}
	}
}

// TestHubSpotTimezoneValues: every zone HubSpot can offer as an hs_timezone
// option (its internal values are the database's names, lower case, with
// _slash_ and _hyphen_) comes back through the plugin's spelling and
// Lookup as a current zone.
func TestHubSpotTimezoneValues(t *testing.T) {
	real := map[string]string{ // values seen in HubSpot accounts
		"america_slash_new_york":                       "America/New_York",
		"asia_slash_kolkata":                           "Asia/Kolkata",
		"asia_slash_calcutta":                          "Asia/Kolkata",
		"europe_slash_london":                          "Europe/London",
		"america_slash_port_hyphen_au_hyphen_prince":   "America/Port-au-Prince",
		"america_slash_argentina_slash_comodrivadavia": "America/Argentina/Catamarca",
		"america_slash_kentucky_slash_louisville":      "America/Kentucky/Louisville",
		"antarctica_slash_dumontdurville":              "Antarctica/DumontDUrville",
		"asia_slash_ust_hyphen_nera":                   "Asia/Ust-Nera",
		"australia_slash_act":                          "Australia/Sydney",
		"us_slash_eastern":                             "America/New_York",
		"us_slash_pacific_hyphen_new":                  "America/Los_Angeles",
		"canada_slash_atlantic":                        "America/Halifax",
		"cuba":                                         "America/Havana",
		"eire":                                         "Europe/Dublin",
		"kwajalein":                                    "Pacific/Kwajalein",
	}
	for v, want := range real {
		got, _, err := callee.Lookup(hubspot.IANAZone(v))
		if err != nil || got != want {
			t.Errorf("hs_timezone %s → %q, %v; want %s", v, got, err, want)
		}
	}
	for _, n := range callee.ZoneNames() {
		v := hubspottest.TimezoneValue(n)
		if !strings.Contains(n, "/") {
			v = strings.ToLower(n)
		}
		got, _, err := callee.Lookup(hubspot.IANAZone(v))
		if err != nil || got != callee.Canonical(n) {
			t.Errorf("hs_timezone %s (%s) → %q, %v; want %s", v, n, got, err, callee.Canonical(n))
		}
	}
}
