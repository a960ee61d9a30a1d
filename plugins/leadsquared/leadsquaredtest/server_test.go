package leadsquaredtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func do(t *testing.T, s *Server, method, path string, query url.Values, body string, headerKeys bool) (int, http.Header, string) {
	t.Helper()
	if query == nil {
		query = url.Values{}
	}
	if !headerKeys {
		query.Set("accessKey", s.AccessKey())
		query.Set("secretKey", s.SecretKey())
	}
	req, err := http.NewRequest(method, s.URL+path+"?"+query.Encode(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if headerKeys {
		req.Header.Set("x-LSQ-AccessKey", s.AccessKey())
		req.Header.Set("x-LSQ-SecretKey", s.SecretKey())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestServerShapes(t *testing.T) {
	now := time.Date(2026, 11, 27, 6, 30, 12, 0, time.UTC)
	s := New(Options{RateMax: 100})
	defer s.Close()
	l := NewLead(LeadInput{FirstName: "Ada", Mobile: "+91-9876543210", City: "Pune", DoNotCall: true, CreatedOn: now})
	s.AddLead(l)
	byIDs := "/v2/LeadManagement.svc/Leads/Retrieve/ByIds"

	tests := []struct {
		name, method, path string
		query              url.Values
		body               string
		headerKeys         bool
		status             int
		want               []string
	}{
		{"by ids, keys in headers", "POST", byIDs, nil,
			`{"SearchParameters":{"LeadIds":["` + strings.ToUpper(l.ID()) + `","nope"]},"Columns":{"Include_CSV":"ProspectId, FirstName,DoNotCall,CreatedOn,mx_Missing"},"Paging":{"PageIndex":1,"PageSize":2}}`,
			true, 200, []string{`"RecordCount":1`, `"ProspectID":"` + l.ID() + `"`, `"DoNotCall":"1"`, `"CreatedOn":"2026-11-27 06:30:12.000"`, `"mx_Missing":null`}},
		{"by ids, keys in query", "POST", byIDs, nil,
			`{"SearchParameters":{"LeadIds":["` + l.ID() + `"]},"Columns":{"Include_CSV":"FirstName"}}`, false, 200, []string{`"FirstName":"Ada"`}},
		{"by ids without columns", "POST", byIDs, nil, `{"SearchParameters":{"LeadIds":["a"]}}`, true, 500, []string{`"Status":"Error"`, "MXMandatoryAttributeMissingException"}},
		{"by ids, bad json", "POST", byIDs, nil, `{`, true, 400, []string{"MXInvalidInputException"}},
		{"get by id", "GET", "/v2/LeadManagement.svc/Leads.GetById", url.Values{"id": {l.ID()}}, "", true, 200, []string{`[{`, `"mx_City":"Pune"`, `"Phone":null`}},
		{"get by unknown id", "GET", "/v2/LeadManagement.svc/Leads.GetById", url.Values{"id": {"nope"}}, "", true, 200, []string{`[]`}},
		{"metadata", "GET", "/v2/LeadManagement.svc/LeadsMetaData.Get", nil, "", true, 200, []string{`"SchemaName":"mx_City"`, `"DataType":"Boolean"`}},
		{"one field", "GET", "/v2/LeadManagement.svc/LeadsMetaData.Get", url.Values{"schemaName": {"firstname"}}, "", true, 200, []string{`[{"SchemaName":"FirstName"`}},
		{"unknown path", "GET", "/v2/LeadManagement.svc/Nope", nil, "", true, 404, []string{"Endpoint not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := do(t, s, tt.method, tt.path, tt.query, tt.body, tt.headerKeys)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %s:\n%s", w, body)
				}
			}
		})
	}
	for _, r := range s.Requests() {
		if strings.Contains(r.Query, s.SecretKey()) || strings.Contains(r.Query, "secretKey") {
			t.Errorf("request log keeps the key: %+v", r)
		}
	}
}

func TestServerAuthLimitsAndFailures(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s := New(Options{RateMax: 1, Clock: func() time.Time { return now }})
	defer s.Close()
	meta := "/v2/LeadManagement.svc/LeadsMetaData.Get"

	req, _ := http.NewRequest("GET", s.URL+meta, nil)
	req.Header.Set("x-LSQ-AccessKey", s.AccessKey())
	req.Header.Set("x-LSQ-SecretKey", "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Status, ExceptionType, ExceptionMessage string }
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 401 || e.Status != "Error" || e.ExceptionType == "" {
		t.Fatalf("wrong key = %d %+v", resp.StatusCode, e)
	}

	if status, _, _ := do(t, s, "GET", meta, nil, "", true); status != 200 {
		t.Fatalf("first call = %d", status)
	}
	if status, _, body := do(t, s, "GET", meta, nil, "", true); status != 429 || !strings.Contains(body, "in 5 second(s)") {
		t.Fatalf("second call in the window = %d %s", status, body)
	}
	now = now.Add(5 * time.Second)
	s.Fail(503, "", "", "3")
	s.FailRaw(502, "<html>Bad Gateway</html>")
	if status, h, _ := do(t, s, "GET", meta, nil, "", true); status != 503 || h.Get("Retry-After") != "3" {
		t.Fatalf("injected 503 = %d %v", status, h)
	}
	if status, _, body := do(t, s, "GET", meta, nil, "", true); status != 502 || !strings.Contains(body, "Bad Gateway") {
		t.Fatalf("injected 502 = %d %s", status, body)
	}
	if status, _, _ := do(t, s, "GET", meta, nil, "", true); status != 200 {
		t.Fatalf("after the failures = %d", status)
	}
}

func TestWebhookBodies(t *testing.T) {
	l := NewLead(LeadInput{ProspectID: "a311900c-0e56-4601-b580-f931645e7b32", FirstName: "Sachin", Company: "R & D",
		CreatedOn: time.Date(2026, 11, 27, 6, 30, 12, 0, time.UTC), Custom: map[string]any{"mx_Budget": 250000}})
	var m map[string]any
	if err := json.Unmarshal(WebhookBody(l), &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"ProspectID": l.ID(), "Phone": nil, "DoNotCall": "0", "Score": "0",
		"CreatedOn": "2026-11-27 06:30:12", "ModifiedOn": "2026-11-27 06:30:12", "mx_Budget": "250000"} {
		if m[k] != want {
			t.Errorf("%s = %#v, want %#v", k, m[k], want)
		}
	}
	form, err := url.ParseQuery(string(FormBody(l)))
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("Company") != "R & D" || form.Get("Phone") != "" || !form.Has("Phone") {
		t.Errorf("form = %v", form)
	}
	if h := WebhookHeaders(ContentForm, "k"); h.Get("Content-Type") != ContentForm || h.Get("X-API-KEY") != "k" {
		t.Errorf("headers = %v", h)
	}
}
