package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
)

// pluginFields lists fields with the real HubSpot plugin against the
// fake, as the gateway does through the plugin process.
type pluginFields struct{ base string }

func (p pluginFields) ListFields(ctx context.Context, _, objectType string) ([]sdk.Field, error) {
	return hubspot.New().ListFields(ctx, sdk.Credentials{"access_token": hubspottest.DefaultToken, "base_url": p.base}, objectType)
}

func TestListFields(t *testing.T) {
	fake := hubspottest.New(hubspottest.Options{})
	defer fake.Close()
	cfg, err := config.LoadBytes("test.hcl", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(bolt.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sched, err := scheduler.New(scheduler.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Options{Config: func() *config.Config { return cfg }, Calls: db, Canceler: sched, DND: db,
		Fields: pluginFields{fake.URL}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	e := &env{srv: srv}

	var list api.FieldList
	if code := e.do(t, http.MethodGet, "/api/v1/integrations/hubspot/fields", "", &list); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	byName := map[string]api.Field{}
	for i, f := range list.Fields {
		byName[f.Name] = f
		if i > 0 && list.Fields[i-1].Name > f.Name {
			t.Errorf("fields not sorted: %s before %s", list.Fields[i-1].Name, f.Name)
		}
	}
	if f := byName["firstname"]; f.Label != "First Name" || f.Type != "string" || len(f.Options) != 0 {
		t.Errorf("firstname = %+v", f)
	}
	if f := byName["createdate"]; f.Type != "time" {
		t.Errorf("createdate = %+v", f)
	}
	if f := byName["lifecyclestage"]; len(f.Options) < 3 || f.Options[0] != (api.FieldOption{Value: "subscriber", Label: "Subscriber"}) {
		t.Errorf("lifecyclestage options = %+v", f.Options)
	}

	tests := []struct {
		name, path string
		setup      func()
		status     int
		message    string
	}{
		{"unknown integration", "/api/v1/integrations/pipedrive/fields", nil, http.StatusNotFound, `unknown integration "pipedrive": use one of hubspot`},
		{"unknown object type", "/api/v1/integrations/hubspot/fields?object_type=widgets", nil, http.StatusBadRequest, `list the fields of hubspot: hubspot: unknown object type "widgets"`},
		{"scope missing", "/api/v1/integrations/hubspot/fields?object_type=contact", func() { fake.SetMissingScopes("crm.schemas.contacts.read") }, http.StatusBadGateway, "list the fields of hubspot: hubspot: list fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			var env struct{ Status, Message string }
			if code := e.do(t, http.MethodGet, tt.path, "", &env); code != tt.status || env.Status != "error" || !strings.Contains(env.Message, tt.message) {
				t.Errorf("got %d %+v; want %d with %q", code, env, tt.status, tt.message)
			}
		})
	}
}
