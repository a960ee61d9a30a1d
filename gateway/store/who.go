package store

import "strings"

// Who names the person a call is for, for lists (docs/dashboard.md,
// "Who"): the first of
//
//   - first and last name (firstname/first_name, lastname/last_name),
//   - a whole name (name, full_name, fullname),
//   - the email (email),
//
// read from the call's variables, then its record fields (keys compared
// without case); else the CRM object ("hubspot contact 123"); else "".
// Erased values are never shown.
func (c Call) Who() string {
	get := func(names ...string) string {
		for _, name := range names {
			for k, v := range c.Variables {
				if strings.EqualFold(k, name) && usable(v) {
					return strings.TrimSpace(v)
				}
			}
			for k, v := range c.Fields {
				if s, ok := v.(string); ok && strings.EqualFold(k, name) && usable(s) {
					return strings.TrimSpace(s)
				}
			}
		}
		return ""
	}
	if n := strings.TrimSpace(get("firstname", "first_name") + " " + get("lastname", "last_name")); n != "" {
		return n
	}
	if n := get("name", "full_name", "fullname"); n != "" {
		return n
	}
	if e := get("email"); e != "" {
		return e
	}
	if c.Source.ObjectID != "" {
		ot := c.Source.ObjectType
		if ot == "" {
			ot = "contact"
		}
		return c.Source.Type + " " + ot + " " + c.Source.ObjectID
	}
	return ""
}

func usable(v string) bool { return strings.TrimSpace(v) != "" && v != Erased }
