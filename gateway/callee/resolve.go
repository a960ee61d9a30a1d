package callee

import (
	"errors"
	"fmt"
	"time"
)

// The timezone settings beside IANA names (agent timezone, the timezone
// query parameter and the /call/outbound field).
const (
	// FromNumber: the timezone of the number called.
	FromNumber = "callee"
	// FromContact: the record's own timezone, as its CRM keeps it
	// (HubSpot's hs_timezone).
	FromContact = "contact"
)

// CheckSetting reports whether s is a timezone setting: "", an IANA name
// (any case), "callee" or "contact". The error is phrased for a user.
func CheckSetting(s string) error {
	if s == "" || s == FromNumber || s == FromContact {
		return nil
	}
	if _, _, err := Lookup(s); err != nil {
		return fmt.Errorf("unknown timezone %q: use an IANA name such as Asia/Kolkata or America/New_York, %q (the number's zone) or %q (the record's own zone)", s, FromNumber, FromContact)
	}
	return nil
}

// Facts are what Resolve may read besides the setting.
type Facts struct {
	Number  string // the number called, E.164: read by "callee"
	Contact string // the record's own zone (sdk.Record.Timezone), "" when it keeps none: read by "contact"
	// NoRecord: the call comes without a CRM record (/call/outbound), so
	// "contact" has nothing to read.
	NoRecord bool
	Agent    string // the agent's timezone setting: the first fallback when it is an IANA name
	Default  string // the server's default_timezone: the last fallback
}

// Zone is a call's resolved timezone.
type Zone struct {
	Name     string // current IANA name
	Location *time.Location
	// Note says why the setting could not be followed and which zone was
	// used instead; "" when it was followed.
	Note string
}

// Resolve turns a timezone setting into a zone:
//
//   - "" is the agent's zone, else the server's default;
//   - an IANA name is that zone (its current name);
//   - "callee" is the number's zone (NumberTimezone);
//   - "contact" is the record's own zone (Facts.Contact).
//
// A number whose zones disagree or that maps to none, and a record without
// a zone or with one that is not an IANA name, fall back to the agent's
// zone, then the server's, and Zone.Note says so. An error means the
// setting is not a timezone or no fallback is a zone.
func Resolve(setting string, f Facts) (Zone, error) {
	var why string
	switch setting {
	case "":
		return fallback(f, "")
	case FromNumber:
		name, ok, reason := NumberTimezone(f.Number)
		if ok {
			return load(name)
		}
		why = "callee: " + reason
	case FromContact:
		if f.NoRecord {
			why = "contact: the call has no CRM record to read a timezone from"
			break
		}
		if f.Contact == "" {
			why = "contact: the record has no timezone"
			break
		}
		name, loc, err := Lookup(f.Contact)
		if err == nil {
			return Zone{Name: name, Location: loc}, nil
		}
		why = fmt.Sprintf("contact: the record's timezone %q is not an IANA name", f.Contact)
	default:
		name, loc, err := Lookup(setting)
		if err != nil {
			return Zone{}, fmt.Errorf("timezone %q: not an IANA name (such as Asia/Kolkata), %q or %q", setting, FromNumber, FromContact)
		}
		return Zone{Name: name, Location: loc}, nil
	}
	return fallback(f, why)
}

// fallback is the agent's zone, else the server's default; why (when not
// "") becomes the note, with the zone used.
func fallback(f Facts, why string) (Zone, error) {
	if f.Agent != "" && f.Agent != FromNumber && f.Agent != FromContact {
		if name, loc, err := Lookup(f.Agent); err == nil {
			return Zone{Name: name, Location: loc, Note: note(why, "the agent's timezone", name)}, nil
		}
	}
	if f.Default == "" {
		return Zone{}, errors.New("no timezone: the agent names none and the server has no default_timezone")
	}
	name, loc, err := Lookup(f.Default)
	if err != nil {
		return Zone{}, fmt.Errorf("default timezone: %w", err)
	}
	return Zone{Name: name, Location: loc, Note: note(why, "the server's default timezone", name)}, nil
}

func note(why, which, name string) string {
	if why == "" {
		return ""
	}
	return fmt.Sprintf("%s; called in %s %s", why, which, name)
}

func load(name string) (Zone, error) {
	n, loc, err := Lookup(name)
	if err != nil {
		return Zone{}, err
	}
	return Zone{Name: n, Location: loc}, nil
}
