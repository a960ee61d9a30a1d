package scheduler

import (
	"fmt"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// CalleeTimezone derives the timezone of an E.164 number from its country
// and prefix with nyaruka/phonenumbers. When the prefix maps to several
// zones that keep the same clock (Europe/London, Europe/Jersey, …) one of
// them is taken; when they disagree (a country-wide or non-geographic
// number in a multi-zone country) ok is false and the caller falls back.
// Legacy names are given as their current IANA name (Asia/Calcutta →
// Asia/Kolkata).
func CalleeTimezone(number string) (string, bool) {
	num, err := phonenumbers.Parse(number, "")
	if err != nil {
		return "", false
	}
	zones, err := phonenumbers.GetTimezonesForNumber(num)
	if err != nil {
		return "", false
	}
	var names []string
	var locs []*time.Location
	for _, z := range zones {
		if canon, ok := legacyZones[z]; ok {
			z = canon
		}
		if loc, err := time.LoadLocation(z); err == nil && z != "" && z != "Etc/Unknown" {
			names, locs = append(names, z), append(locs, loc)
		}
	}
	if len(names) == 0 {
		return "", false
	}
	for i := 1; i < len(locs); i++ {
		if !sameClock(locs[0], locs[i]) {
			return "", false
		}
	}
	for _, n := range names {
		if preferredZones[n] {
			return n, true
		}
	}
	return names[0], true
}

// legacyZones maps old names phonenumbers still uses to current ones.
var legacyZones = map[string]string{
	"Asia/Calcutta": "Asia/Kolkata", "Asia/Saigon": "Asia/Ho_Chi_Minh", "Asia/Katmandu": "Asia/Kathmandu",
	"Asia/Rangoon": "Asia/Yangon", "Europe/Kiev": "Europe/Kyiv", "Atlantic/Faeroe": "Atlantic/Faroe",
	"America/Buenos_Aires": "America/Argentina/Buenos_Aires", "Pacific/Truk": "Pacific/Chuuk",
}

// preferredZones are picked among zones that keep the same clock, so a
// UK number reads Europe/London rather than Europe/Guernsey.
var preferredZones = map[string]bool{"Europe/London": true}

// sameClock reports whether two zones show the same offset through a year.
func sameClock(a, b *time.Location) bool {
	start := time.Date(time.Now().Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	for d := 0; d < 366; d += 7 {
		t := start.AddDate(0, 0, d)
		_, oa := t.In(a).Zone()
		_, ob := t.In(b).Zone()
		if oa != ob {
			return false
		}
	}
	return true
}

// resolveTimezone turns a policy timezone ("", "callee" or an IANA name)
// into a loaded location and its name.
func resolveTimezone(tz, number, fallback string) (string, *time.Location, error) {
	switch tz {
	case "":
		tz = fallback
	case "callee":
		if z, ok := CalleeTimezone(number); ok {
			tz = z
		} else {
			tz = fallback
		}
	}
	if tz == "" {
		tz = "Asia/Kolkata"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return "", nil, fmt.Errorf("timezone %q: not an IANA name (e.g. Asia/Kolkata) or \"callee\": %w", tz, err)
	}
	return tz, loc, nil
}
