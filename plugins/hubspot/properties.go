package hubspot

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/sdk"
)

// Property is one HubSpot property definition, as the properties API returns it.
type Property struct {
	Name           string `json:"name"`
	Label          string `json:"label"`
	Type           string `json:"type"`      // string, number, bool, date, datetime, enumeration, phone_number
	FieldType      string `json:"fieldType"` // text, number, booleancheckbox, date, select, phonenumber, …
	GroupName      string `json:"groupName"`
	Description    string `json:"description"`
	HubspotDefined bool   `json:"hubspotDefined"`
	Calculated     bool   `json:"calculated"`
	Hidden         bool   `json:"hidden"`
	Options        []struct {
		Label  string `json:"label"`
		Value  string `json:"value"`
		Hidden bool   `json:"hidden"`
	} `json:"options"`
}

type propertyCache struct {
	defs    map[string]Property // nil when the definitions could not be read
	order   []string
	fetched time.Time
}

// properties returns an object type's property definitions, cached per
// account for the TTL. When the token may not read them (403), values are
// left as strings rather than failing the fetch: the definitions only type
// values.
func (p *Plugin) properties(ctx context.Context, a account, path string) (propertyCache, error) {
	key := a.key() + " " + path
	now := p.now()
	p.mu.Lock()
	c, ok := p.propCache[key]
	p.mu.Unlock()
	if ok && now.Sub(c.fetched) < p.propertiesTTL {
		return c, nil
	}
	var body struct {
		Results []Property `json:"results"`
	}
	res, err := p.doJSON(ctx, a, call{method: http.MethodGet, path: path, what: "read property definitions", scope: "crm.schemas.contacts.read"}, &body)
	switch {
	case err == nil:
		c = propertyCache{defs: make(map[string]Property, len(body.Results)), fetched: now}
		for _, prop := range body.Results {
			c.defs[prop.Name] = prop
			c.order = append(c.order, prop.Name)
		}
	case res != nil && res.status == http.StatusForbidden:
		p.log.Warn("cannot read property definitions; values stay strings (grant crm.schemas.contacts.read to type them)")
		c = propertyCache{fetched: now}
	default:
		return propertyCache{}, err
	}
	p.mu.Lock()
	p.propCache[key] = c
	p.mu.Unlock()
	return c, nil
}

// forgetProperties drops an account's cached definitions (after creating one).
func (p *Plugin) forgetProperties(a account, path string) {
	p.mu.Lock()
	delete(p.propCache, a.key()+" "+path)
	p.mu.Unlock()
}

// ListFields lists an object type's properties from the properties API.
func (p *Plugin) ListFields(ctx context.Context, creds sdk.Credentials, objectType string) ([]sdk.Field, error) {
	a, err := parseAccount(creds)
	if err != nil {
		return nil, err
	}
	_, path, err := a.objectPaths(objectType)
	if err != nil {
		return nil, err
	}
	c, err := p.properties(ctx, a, path)
	if err != nil {
		return nil, err
	}
	if c.defs == nil {
		return nil, sdk.Auth("hubspot: list fields: the token may not read property definitions (403); grant the crm.schemas.contacts.read scope")
	}
	fields := make([]sdk.Field, 0, len(c.order))
	for _, name := range c.order {
		d := c.defs[name]
		f := sdk.Field{Name: d.Name, Label: d.Label, Type: valueType(d)}
		for _, o := range d.Options {
			if !o.Hidden {
				f.Options = append(f.Options, sdk.FieldOption{Value: o.Value, Label: o.Label})
			}
		}
		fields = append(fields, f)
	}
	return fields, nil
}

func valueType(d Property) sdk.ValueType {
	switch {
	case d.Type == "number":
		return sdk.TypeNumber
	case d.Type == "bool" || d.FieldType == "booleancheckbox":
		return sdk.TypeBool
	case d.Type == "date" || d.Type == "datetime":
		return sdk.TypeTime
	}
	return sdk.TypeString
}

// typedValue converts a HubSpot property value (always a string or null) by
// its definition. Null and "" are absent (ok false). A value that does not
// parse as its declared type stays a string rather than being lost.
func typedValue(raw *string, def Property, known bool) (sdk.Value, bool) {
	if raw == nil || *raw == "" {
		return sdk.Value{}, false
	}
	s := *raw
	if !known {
		return sdk.StringValue(s), true
	}
	switch valueType(def) {
	case sdk.TypeNumber:
		if n, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return sdk.NumberValue(n), true
		}
	case sdk.TypeBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return sdk.BoolValue(true), true
		case "false":
			return sdk.BoolValue(false), true
		}
	case sdk.TypeTime:
		if t, ok := parseTime(s); ok {
			return sdk.TimeValue(t), true
		}
	}
	return sdk.StringValue(s), true
}

// parseTime reads HubSpot's date and datetime values: ISO 8601
// (2022-06-01T14:31:48.469Z or 2022-06-01) or epoch milliseconds.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if strings.Trim(s, "0123456789") == "" || (s[0] == '-' && strings.Trim(s[1:], "0123456789") == "") {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.UnixMilli(ms).UTC(), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
