package scheduler

import (
	"fmt"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// CalleeTimezone derives the timezone of an E.164 number from its country
// and prefix. A number whose prefix spans several zones takes the first
// zone phonenumbers lists for it; ok is false when the number gives none.
func CalleeTimezone(number string) (string, bool) {
	num, err := phonenumbers.Parse(number, "")
	if err != nil {
		return "", false
	}
	zones, err := phonenumbers.GetTimezonesForNumber(num)
	if err != nil {
		return "", false
	}
	for _, z := range zones {
		if z == "" || z == "Etc/Unknown" {
			continue
		}
		if _, err := time.LoadLocation(z); err == nil {
			return z, true
		}
	}
	return "", false
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
