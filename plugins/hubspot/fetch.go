package hubspot

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/callgate/callgate/sdk"
)

// BatchLimit is the most ids HubSpot's batch read takes in one request.
const BatchLimit = 100

// PhoneProperties returns the contact properties read as phone candidates,
// in order of preference; the host chooses among them by the agent's
// phone_fields.
func PhoneProperties() []string {
	return []string{"mobilephone", "phone", "hs_calculated_mobile_number", "hs_calculated_phone_number"}
}

// DefaultFields returns the properties read when the host asks for none in
// particular.
func DefaultFields() []string {
	return []string{"firstname", "lastname", "email", "company", "country", "hs_timezone", "lifecyclestage"}
}

// TimezoneProperty is the contact property holding the person's own time
// zone. It is always read, so agents with timezone = "contact" can use it.
const TimezoneProperty = "hs_timezone"

// IANAZone spells an hs_timezone value as an IANA zone name. HubSpot keeps
// the zone as an enumeration whose internal values write "/" as _slash_
// and "-" as _hyphen_ in lower case (america_slash_new_york,
// america_slash_port_hyphen_au_hyphen_prince); each word gets its capital
// back (America/New_York). The host matches the name without regard to
// case, so America/Port-Au-Prince finds America/Port-au-Prince. A value
// already written as a zone name is returned as it is; empty stays empty.
func IANAZone(v string) string {
	v = strings.TrimSpace(v)
	if v == "" || strings.Contains(v, "/") {
		return v
	}
	v = strings.ReplaceAll(v, "_slash_", "/")
	v = strings.ReplaceAll(v, "_hyphen_", "-")
	b := []byte(v)
	upper := true
	for i, c := range b {
		switch {
		case c == '/' || c == '_' || c == '-':
			upper = true
		case upper && 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
			upper = false
		default:
			upper = false
		}
	}
	return string(b)
}

// object is HubSpot's SimplePublicObject.
type object struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	Archived   bool               `json:"archived"`
}

// batchResponse is HubSpot's BatchResponseSimplePublicObject(WithErrors).
type batchResponse struct {
	Status    string          `json:"status"`
	Results   []object        `json:"results"`
	NumErrors int             `json:"numErrors"`
	Errors    []APIErrorEntry `json:"errors"`
}

// FetchRecords reads records by id: one GET for a single id, otherwise one
// batch read per 100 ids. Ids HubSpot does not find are reported in
// Missing, not as an error.
func (p *Plugin) FetchRecords(ctx context.Context, req sdk.FetchRequest) (sdk.FetchResult, error) {
	a, err := parseAccount(req.Credentials)
	if err != nil {
		return sdk.FetchResult{}, err
	}
	objectsPath, propertiesPath, err := a.objectPaths(req.ObjectType)
	if err != nil {
		return sdk.FetchResult{}, err
	}
	ids := uniqueIDs(req.IDs)
	if len(ids) == 0 {
		return sdk.FetchResult{}, nil
	}
	props := requestedProperties(req.Fields)
	defs, err := p.properties(ctx, a, propertiesPath)
	if err != nil {
		return sdk.FetchResult{}, err
	}
	var res sdk.FetchResult
	if len(ids) == 1 {
		obj, found, err := p.getOne(ctx, a, objectsPath, ids[0], props)
		if err != nil {
			return sdk.FetchResult{}, err
		}
		if !found {
			res.Missing = append(res.Missing, ids[0])
		} else {
			res.Records = append(res.Records, toRecord(obj, defs))
		}
		return res, nil
	}
	for chunk := range slices.Chunk(ids, BatchLimit) {
		objs, missing, err := p.batchRead(ctx, a, objectsPath, chunk, props)
		if err != nil {
			return sdk.FetchResult{}, err
		}
		for _, o := range objs {
			res.Records = append(res.Records, toRecord(o, defs))
		}
		res.Missing = append(res.Missing, missing...)
	}
	return res, nil
}

func (p *Plugin) getOne(ctx context.Context, a account, objectsPath, id string, props []string) (object, bool, error) {
	c := call{
		method: http.MethodGet,
		path:   objectsPath + "/" + url.PathEscape(id),
		query:  url.Values{"properties": {strings.Join(props, ",")}, "archived": {"false"}},
		what:   "fetch record " + id,
		scope:  "crm.objects.contacts.read",
	}
	var obj object
	res, err := p.doJSON(ctx, a, c, &obj)
	if res != nil && res.status == http.StatusNotFound {
		return object{}, false, nil
	}
	if err != nil {
		return object{}, false, err
	}
	if obj.ID == "" {
		obj.ID = id
	}
	return obj, true, nil
}

func (p *Plugin) batchRead(ctx context.Context, a account, objectsPath string, ids, props []string) ([]object, []string, error) {
	inputs := make([]map[string]string, len(ids))
	for i, id := range ids {
		inputs[i] = map[string]string{"id": id}
	}
	c := call{
		method: http.MethodPost,
		path:   objectsPath + "/batch/read",
		query:  url.Values{"archived": {"false"}},
		body:   map[string]any{"properties": props, "propertiesWithHistory": []string{}, "inputs": inputs},
		what:   "batch read " + strings.Join(ids[:min(3, len(ids))], ",") + more(len(ids)),
		scope:  "crm.objects.contacts.read",
	}
	var br batchResponse
	if res, err := p.doJSON(ctx, a, c, &br); err != nil {
		if res != nil && res.status == http.StatusNotFound {
			// The batch endpoint always exists under a valid objects path.
			return nil, nil, sdk.Permanent("hubspot: %s: %s%s answered 404; check the integration's objects_path", c.what, a.baseURL, c.path)
		}
		return nil, nil, err
	}
	for _, e := range br.Errors {
		if e.Category != "OBJECT_NOT_FOUND" {
			p.log.Warn("batch read reported an error", "category", e.Category, "message", truncate(e.Message, 200))
		}
	}
	// Every requested id that did not come back is missing, whether the 207
	// names it in errors[].context.ids or not.
	found := make(map[string]bool, len(br.Results))
	for _, o := range br.Results {
		found[o.ID] = true
	}
	var missing []string
	for _, id := range ids {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	return br.Results, missing, nil
}

func more(n int) string {
	if n <= 3 {
		return ""
	}
	return ",… (" + strconv.Itoa(n) + " ids)"
}

func toRecord(o object, defs propertyCache) sdk.Record {
	rec := sdk.Record{ObjectID: o.ID, Fields: make(map[string]sdk.Value, len(o.Properties))}
	if tz := o.Properties[TimezoneProperty]; tz != nil {
		rec.Timezone = IANAZone(*tz)
	}
	for name, raw := range o.Properties {
		def, known := defs.defs[name]
		if v, ok := typedValue(raw, def, known); ok {
			rec.Fields[name] = v
		}
	}
	seen := map[string]bool{}
	addPhone := func(name string) {
		if raw := o.Properties[name]; raw != nil {
			if s := strings.TrimSpace(*raw); s != "" && !seen[s] {
				seen[s] = true
				rec.Phones = append(rec.Phones, s)
			}
		}
	}
	for _, name := range PhoneProperties() {
		addPhone(name)
	}
	// Custom phone-number properties the host asked for come after HubSpot's own.
	names := make([]string, 0, len(o.Properties))
	for name := range o.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if d, ok := defs.defs[name]; ok && (d.Type == "phone_number" || d.FieldType == "phonenumber") {
			addPhone(name)
		}
	}
	return rec
}

// requestedProperties is the host's fields plus the phone properties and
// hs_timezone, each once.
func requestedProperties(fields []string) []string {
	if len(fields) == 0 {
		fields = DefaultFields()
	}
	phones := append(PhoneProperties(), TimezoneProperty)
	out := make([]string, 0, len(fields)+len(phones))
	seen := map[string]bool{}
	for _, f := range append(slices.Clip(fields), phones...) {
		f = strings.TrimSpace(f)
		if f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

func uniqueIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
