package leadsquared

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/callgate/callgate/sdk"
)

// MaxFetchIDs is the most lead ids one Retrieve/ByIds request asks for
// (LeadSquared takes more; the host never sends more than 100).
const MaxFetchIDs = 100

// DefaultFields are the columns read when a FetchRequest names none.
var DefaultFields = []string{
	"ProspectID", "ProspectAutoId", "FirstName", "LastName", "EmailAddress", "Phone", "Mobile",
	"Company", "JobTitle", "mx_City", "Source", "ProspectStage", "DoNotCall", "OwnerIdEmailAddress",
	"CreatedOn", "ModifiedOn",
}

// alwaysFields are read whatever the request names: the id to match
// records by, the phones and the timestamps.
var alwaysFields = []string{"ProspectID", "Mobile", "Phone", "CreatedOn", "ModifiedOn"}

// FetchRecords reads leads by ProspectID through Leads/Retrieve/ByIds,
// one request per 100 ids, asking for exactly the fields named (plus id,
// phones and timestamps). Ids LeadSquared does not return are Missing.
func (p *Plugin) FetchRecords(ctx context.Context, req sdk.FetchRequest) (sdk.FetchResult, error) {
	if err := checkObjectType(req.ObjectType); err != nil {
		return sdk.FetchResult{}, err
	}
	a, err := parseAccount(req.Credentials)
	if err != nil {
		return sdk.FetchResult{}, err
	}
	var res sdk.FetchResult
	var ids []string
	for _, id := range req.IDs {
		id = strings.TrimSpace(id)
		switch {
		case id == "":
			continue
		case slices.Contains(ids, id):
		default:
			ids = append(ids, id)
		}
	}
	cols := columns(req.Fields)
	for start := 0; start < len(ids); start += MaxFetchIDs {
		chunk := ids[start:min(start+MaxFetchIDs, len(ids))]
		recs, missing, err := p.fetchChunk(ctx, a, chunk, cols)
		if err != nil {
			return sdk.FetchResult{}, err
		}
		res.Records = append(res.Records, recs...)
		res.Missing = append(res.Missing, missing...)
	}
	return res, nil
}

// byIDsRequest is the Leads/Retrieve/ByIds body.
type byIDsRequest struct {
	SearchParameters struct {
		LeadIDs []string `json:"LeadIds"`
	} `json:"SearchParameters"`
	Columns struct {
		IncludeCSV string `json:"Include_CSV"`
	} `json:"Columns"`
	Paging struct {
		PageIndex int `json:"PageIndex"`
		PageSize  int `json:"PageSize"`
	} `json:"Paging"`
}

// byIDsResponse is its answer.
type byIDsResponse struct {
	RecordCount int              `json:"RecordCount"`
	Leads       []map[string]any `json:"Leads"`
}

func (p *Plugin) fetchChunk(ctx context.Context, a account, ids []string, cols string) ([]sdk.Record, []string, error) {
	var body byIDsRequest
	body.SearchParameters.LeadIDs = ids
	body.Columns.IncludeCSV = cols
	body.Paging.PageIndex, body.Paging.PageSize = 1, len(ids)
	var out byIDsResponse
	if err := p.call(ctx, a, http.MethodPost, PathLeadsByIDs, nil, body, &out, "read leads"); err != nil {
		return nil, nil, err
	}
	want := make(map[string]string, len(ids)) // lower-case id → id as asked
	for _, id := range ids {
		want[strings.ToLower(id)] = id
	}
	var recs []sdk.Record
	for _, lead := range out.Leads {
		rec := toRecord(lead)
		asked, ok := want[strings.ToLower(rec.ObjectID)]
		if !ok {
			// Not one we asked for (or no id): ignore rather than misattribute.
			p.log.Warn("LeadSquared returned a lead that was not asked for", "prospect_id", truncate(rec.ObjectID, 60), "host", a.host)
			continue
		}
		rec.ObjectID = asked
		delete(want, strings.ToLower(asked))
		recs = append(recs, rec)
	}
	var missing []string
	for _, id := range ids {
		if _, ok := want[strings.ToLower(id)]; ok {
			missing = append(missing, id)
		}
	}
	return recs, missing, nil
}

// columns is the Include_CSV list: the canonical names of fields (or
// DefaultFields), plus alwaysFields, without duplicates.
func columns(fields []string) string {
	if len(fields) == 0 {
		fields = DefaultFields
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range append(slices.Clone(alwaysFields), fields...) {
		f = canonical(strings.TrimSpace(f))
		if f == "" || seen[strings.ToLower(f)] || strings.ContainsAny(f, ", ") {
			continue
		}
		seen[strings.ToLower(f)] = true
		out = append(out, f)
	}
	return strings.Join(out, ",")
}

// fieldMeta is one entry of LeadsMetaData.Get.
type fieldMeta struct {
	SchemaName  string `json:"SchemaName"`
	DisplayName string `json:"DisplayName"`
	DataType    string `json:"DataType"`
}

// ListFields lists the account's lead fields (system and mx_ custom) from
// LeadsMetaData.Get, with LeadSquared's data types mapped to value types.
func (p *Plugin) ListFields(ctx context.Context, creds sdk.Credentials, objectType string) ([]sdk.Field, error) {
	if err := checkObjectType(objectType); err != nil {
		return nil, err
	}
	a, err := parseAccount(creds)
	if err != nil {
		return nil, err
	}
	var metas []fieldMeta
	if err := p.call(ctx, a, http.MethodGet, PathMetadata, url.Values{"excludeOptionSets": {"1"}}, nil, &metas, "read lead fields"); err != nil {
		return nil, err
	}
	fields := make([]sdk.Field, 0, len(metas))
	for _, m := range metas {
		if m.SchemaName == "" {
			continue
		}
		fields = append(fields, sdk.Field{Name: canonical(m.SchemaName), Label: m.DisplayName, Type: valueType(m.SchemaName, m.DataType)})
	}
	return fields, nil
}

// valueType is the sdk type the plugin gives a field of this LeadSquared
// data type. Plugin values follow the field's JSON: LeadSquared sends
// mx_ numbers and flags as strings, so only the fields the plugin types
// itself (DoNot* flags, scores) are reported as numbers and bools.
func valueType(schema, dataType string) sdk.ValueType {
	name := canonical(schema)
	switch {
	case boolFields[name]:
		return sdk.TypeBool
	case numberFields[name]:
		return sdk.TypeNumber
	}
	switch strings.ToLower(dataType) {
	case "date", "datetime":
		return sdk.TypeTime
	}
	return sdk.TypeString
}

// CheckCredentials reads one field's metadata: a small call that needs
// valid keys and the account's own region host.
func (p *Plugin) CheckCredentials(ctx context.Context, creds sdk.Credentials) error {
	a, err := parseAccount(creds)
	if err != nil {
		return err
	}
	var metas []fieldMeta
	return p.call(ctx, a, http.MethodGet, PathMetadata, url.Values{"schemaName": {"FirstName"}, "excludeOptionSets": {"1"}}, nil, &metas, "check credentials")
}

func checkObjectType(t string) error {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "", "lead", "leads", "prospect", "contact":
		return nil
	}
	return sdk.Permanent("leadsquared: object type %q is not supported; LeadSquared events are about leads", truncate(t, 40))
}
