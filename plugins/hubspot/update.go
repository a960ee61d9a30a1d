package hubspot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/sdk"
)

// WritebackPrefix marks the custom properties callgate may create on its own.
const WritebackPrefix = "callgate_"

// WritebackGroup is the property group callgate's custom properties go in.
const WritebackGroup = "contactinformation"

// UpdateRecord PATCHes the record's properties. When HubSpot answers that a
// callgate_* property does not exist, the property is created once through
// the properties API (scope crm.schemas.contacts.write) and the PATCH is
// retried; other unknown properties are a permanent error.
func (p *Plugin) UpdateRecord(ctx context.Context, req sdk.UpdateRequest) error {
	a, err := parseAccount(req.Credentials)
	if err != nil {
		return err
	}
	objectsPath, propertiesPath, err := a.objectPaths(req.ObjectType)
	if err != nil {
		return err
	}
	if strings.TrimSpace(req.ObjectID) == "" {
		return sdk.BadRequest("hubspot: update record: no object id")
	}
	if len(req.Fields) == 0 {
		return nil
	}
	props := make(map[string]string, len(req.Fields))
	for name, v := range req.Fields {
		props[name] = formatValue(v)
	}
	c := call{
		method: http.MethodPatch,
		path:   objectsPath + "/" + url.PathEscape(req.ObjectID),
		body:   map[string]any{"properties": props},
		what:   "update record " + req.ObjectID,
		scope:  "crm.objects.contacts.write",
	}
	res, err := p.doJSON(ctx, a, c, nil)
	if err == nil {
		return nil
	}
	if res == nil || res.status != http.StatusBadRequest {
		return err
	}
	missing := missingProperties(res.body, req.Fields)
	if len(missing) == 0 {
		return err
	}
	for _, name := range missing {
		if !strings.HasPrefix(name, WritebackPrefix) {
			return sdk.Permanent("hubspot: update record %s: property %q does not exist in HubSpot; create it or remove it from the write-back", req.ObjectID, name)
		}
	}
	for _, name := range missing {
		if err := p.createProperty(ctx, a, propertiesPath, name, req.Fields[name]); err != nil {
			return err
		}
	}
	_, err = p.doJSON(ctx, a, c, nil)
	return err
}

// formatValue writes a value as HubSpot's API accepts it: every value is a
// string; times as ISO 8601 in UTC; null clears the property.
func formatValue(v sdk.Value) string {
	switch v.Type {
	case sdk.TypeString, sdk.TypeNumber:
		return v.Text()
	case sdk.TypeBool:
		return strconv.FormatBool(v.Bool)
	case sdk.TypeTime:
		return v.Time.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return ""
}

// missingProperties finds the property names a 400 says do not exist. HubSpot
// says so in two shapes: errors[] with code PROPERTY_DOESNT_EXIST and
// context.propertyName, or a VALIDATION_ERROR whose message embeds a JSON
// list of {"error":"PROPERTY_DOESNT_EXIST","name":…}. When the names cannot be
// read but the error is of that kind, the request's callgate_* fields are
// assumed missing (creating an existing property answers 409, which is fine).
func missingProperties(body []byte, fields map[string]sdk.Value) []string {
	e := parseAPIError(body)
	var names []string
	for _, item := range e.Errors {
		if item.Code == "PROPERTY_DOESNT_EXIST" {
			names = append(names, contextStrings(item.Context, "propertyName")...)
		}
	}
	if i := strings.Index(e.Message, "["); i >= 0 && strings.Contains(e.Message, "PROPERTY_DOESNT_EXIST") {
		var items []struct {
			Error string `json:"error"`
			Name  string `json:"name"`
		}
		if json.Unmarshal([]byte(e.Message[i:]), &items) == nil {
			for _, it := range items {
				if it.Error == "PROPERTY_DOESNT_EXIST" && it.Name != "" {
					names = append(names, it.Name)
				}
			}
		}
	}
	if len(names) == 0 && strings.Contains(string(body), "PROPERTY_DOESNT_EXIST") {
		for name := range fields {
			if strings.HasPrefix(name, WritebackPrefix) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func contextStrings(ctx map[string]any, key string) []string {
	var out []string
	switch v := ctx[key].(type) {
	case []any:
		for _, s := range v {
			if str, ok := s.(string); ok {
				out = append(out, str)
			}
		}
	case string:
		out = append(out, v)
	}
	return out
}

// createProperty creates a callgate_* property once per account; the type
// follows the value written (datetime for times, number, else string).
func (p *Plugin) createProperty(ctx context.Context, a account, path, name string, v sdk.Value) error {
	key := a.key() + " " + path
	p.mu.Lock()
	done := p.created[key][name]
	p.mu.Unlock()
	if done {
		return nil
	}
	typ, fieldType := "string", "text"
	switch v.Type {
	case sdk.TypeTime:
		typ, fieldType = "datetime", "date"
	case sdk.TypeNumber:
		typ, fieldType = "number", "number"
	}
	label := "callgate " + strings.ReplaceAll(strings.TrimPrefix(name, WritebackPrefix), "_", " ")
	c := call{
		method: http.MethodPost,
		path:   path,
		body: map[string]any{
			"name": name, "label": label, "type": typ, "fieldType": fieldType,
			"groupName": WritebackGroup, "description": "Written by callgate after each call.",
		},
		what:  "create property " + name,
		scope: "crm.schemas.contacts.write",
	}
	res, err := p.doJSON(ctx, a, c, nil)
	if err != nil && (res == nil || res.status != http.StatusConflict) {
		return err
	}
	if err == nil {
		p.log.Info("created HubSpot property for write-back", "property", name, "type", typ)
	}
	p.mu.Lock()
	if p.created[key] == nil {
		p.created[key] = map[string]bool{}
	}
	p.created[key][name] = true
	p.mu.Unlock()
	p.forgetProperties(a, path)
	return nil
}

// CheckCredentials reads one record: a 401 means the token is wrong, a 403
// names the missing scope.
func (p *Plugin) CheckCredentials(ctx context.Context, creds sdk.Credentials) error {
	a, err := parseAccount(creds)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	res, err := p.doJSON(ctx, a, call{
		method: http.MethodGet,
		path:   a.objectsPath,
		query:  url.Values{"limit": {"1"}},
		what:   "check credentials",
		scope:  "crm.objects.contacts.read",
	}, nil)
	if res != nil && res.status == http.StatusNotFound {
		return sdk.Permanent("hubspot: check credentials: %s%s answered 404; check the integration's base_url and objects_path", a.baseURL, a.objectsPath)
	}
	return err
}
