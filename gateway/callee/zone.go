package callee

//go:generate go run gen_zones.go

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Canonical returns the current IANA name of a zone name: an old name
// (Asia/Calcutta, Europe/Kiev, US/Eastern) becomes the zone it was renamed
// to or merged into (Asia/Kolkata, Europe/Kyiv, America/New_York); any
// other name is returned as it is.
func Canonical(name string) string {
	if cur, ok := oldZones[name]; ok {
		return cur
	}
	if cur, ok := removedZones[name]; ok {
		return cur
	}
	return name
}

// removedZones are names the time zone database no longer has at all but
// that CRMs still offer (HubSpot lists US/Pacific-New).
var removedZones = map[string]string{"US/Pacific-New": "America/Los_Angeles"}

// zoneIndex finds a zone name written in any case.
var zoneIndex = sync.OnceValue(func() map[string]string {
	idx := make(map[string]string, len(zoneNames)+len(removedZones))
	for _, n := range zoneNames {
		idx[strings.ToLower(n)] = n
	}
	for n := range removedZones {
		idx[strings.ToLower(n)] = n
	}
	return idx
})

// Lookup reads name as an IANA zone, in any case ("america/new_york"
// finds America/New_York), and returns its current name and location.
// "Local" and "" are not zones.
func Lookup(name string) (string, *time.Location, error) {
	s := strings.TrimSpace(name)
	if s == "" || strings.EqualFold(s, "local") {
		return "", nil, fmt.Errorf("%q is not an IANA timezone name (like Asia/Kolkata)", name)
	}
	if n, ok := zoneIndex()[strings.ToLower(s)]; ok {
		s = n
	}
	s = Canonical(s)
	loc, err := time.LoadLocation(s)
	if err != nil {
		return "", nil, fmt.Errorf("%q is not an IANA timezone name (like Asia/Kolkata or America/New_York)", name)
	}
	return s, loc, nil
}

// NumberTimezone is the timezone of an E.164 number, from its country and
// prefix (nyaruka/phonenumbers). When the prefix maps to several zones
// that keep the same clock all year (Europe/London, Europe/Jersey, …) one
// of them is given; when they disagree (a toll-free +1 800 number, a
// country-wide number in a multi-zone country) or the number maps to none,
// ok is false and why says so.
func NumberTimezone(number string) (name string, ok bool, why string) {
	num, err := phonenumbers.Parse(number, "")
	if err != nil {
		return "", false, "the number is not a number in E.164"
	}
	zones, err := phonenumbers.GetTimezonesForNumber(num)
	if err != nil {
		return "", false, "the number has no known timezone"
	}
	var names []string
	var locs []*time.Location
	for _, z := range zones {
		if z == "" || z == phonenumbers.UNKNOWN_TIMEZONE {
			continue
		}
		n, loc, err := Lookup(z)
		if err != nil {
			continue
		}
		names, locs = append(names, n), append(locs, loc)
	}
	if len(names) == 0 {
		return "", false, "the number has no known timezone"
	}
	for i := 1; i < len(locs); i++ {
		if !sameClock(locs[0], locs[i]) {
			return "", false, fmt.Sprintf("the number is in several timezones (%s)", abbreviateZones(names))
		}
	}
	for _, n := range names {
		if preferredZones[n] {
			return n, true, ""
		}
	}
	return names[0], true, ""
}

// preferredZones are picked among zones that keep the same clock, so a UK
// number reads Europe/London rather than Europe/Guernsey.
var preferredZones = map[string]bool{"Europe/London": true}

// sameClock reports whether two zones show the same offset all through
// this year and the next.
func sameClock(a, b *time.Location) bool {
	start := time.Date(time.Now().Year(), 1, 1, 12, 0, 0, 0, time.UTC)
	for d := 0; d < 2*366; d++ {
		t := start.AddDate(0, 0, d)
		_, oa := t.In(a).Zone()
		_, ob := t.In(b).Zone()
		if oa != ob {
			return false
		}
	}
	return true
}

// abbreviateZones lists at most three zones, for a note.
func abbreviateZones(names []string) string {
	if len(names) <= 3 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, … %d in all", strings.Join(names[:3], ", "), len(names))
}

// ZoneNames lists the zone and link names of the built-in time zone
// database, old names included.
func ZoneNames() []string { return slices.Clone(zoneNames) }
