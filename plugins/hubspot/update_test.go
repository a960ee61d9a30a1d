package hubspot_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
)

func TestUpdateRecordCreatesCallgateProperties(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	id := srv.AddContact("", map[string]any{"firstname": "Ada"})
	at := time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)
	fields := map[string]sdk.Value{
		"callgate_last_call_status": sdk.StringValue("completed"),
		"callgate_last_call_at":     sdk.TimeValue(at),
		"callgate_attempts":         sdk.NumberValue(2),
	}
	if err := p.UpdateRecord(context.Background(), sdk.UpdateRequest{Credentials: creds, ObjectType: "contact", ObjectID: id, Fields: fields}); err != nil {
		t.Fatal(err)
	}
	got, _ := srv.Contact(id)
	if got["callgate_last_call_status"] != "completed" || got["callgate_last_call_at"] != "2026-11-27T10:30:00.000Z" || got["callgate_attempts"] != "2" {
		t.Fatalf("contact after write-back: %v", got)
	}
	prop, ok := srv.HasProperty("callgate_last_call_at")
	if !ok || prop.Type != "datetime" || prop.GroupName != "contactinformation" {
		t.Errorf("created property %+v", prop)
	}
	if prop, _ := srv.HasProperty("callgate_attempts"); prop.Type != "number" {
		t.Errorf("callgate_attempts created as %q", prop.Type)
	}
	st := srv.Stats()
	if st.CreateProperty != 3 || st.Patch != 2 {
		t.Fatalf("stats %+v: want 3 property creations and 2 PATCHes", st)
	}
	// The second write-back needs no creation.
	fields["callgate_last_call_status"] = sdk.StringValue("no_answer")
	if err := p.UpdateRecord(context.Background(), sdk.UpdateRequest{Credentials: creds, ObjectID: id, Fields: fields}); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.CreateProperty != 3 || st.Patch != 3 {
		t.Fatalf("stats after the second write-back %+v", st)
	}
}

func TestUpdateRecordErrors(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	id := srv.AddContact("", map[string]any{"firstname": "Ada"})
	tests := []struct {
		name   string
		req    sdk.UpdateRequest
		before func()
		class  sdk.Class
		says   string
	}{
		{"unknown non-callgate property", sdk.UpdateRequest{ObjectID: id, Fields: map[string]sdk.Value{"favourite_colour": sdk.StringValue("teal")}}, nil, sdk.ClassPermanent, "favourite_colour"},
		{"unknown contact", sdk.UpdateRequest{ObjectID: "424242", Fields: map[string]sdk.Value{"firstname": sdk.StringValue("x")}}, nil, sdk.ClassNotFound, "404"},
		{"no object id", sdk.UpdateRequest{Fields: map[string]sdk.Value{"firstname": sdk.StringValue("x")}}, nil, sdk.ClassBadRequest, "object id"},
		{"missing write scope", sdk.UpdateRequest{ObjectID: id, Fields: map[string]sdk.Value{"firstname": sdk.StringValue("x")}}, func() { srv.SetMissingScopes("crm.objects.contacts.write") }, sdk.ClassAuth, "crm.objects.contacts.write"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			tc.req.Credentials = creds
			err := p.UpdateRecord(context.Background(), tc.req)
			if sdk.ClassOf(err) != tc.class || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err %v, want class %s saying %q", err, tc.class, tc.says)
			}
		})
	}
}

func TestListFieldsAndCheckCredentials(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	fields, err := p.ListFields(context.Background(), creds, "contact")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]sdk.ValueType{}
	for _, f := range fields {
		types[f.Name] = f.Type
	}
	want := map[string]sdk.ValueType{"firstname": sdk.TypeString, "hs_object_id": sdk.TypeNumber, "createdate": sdk.TypeTime, "hs_email_optout": sdk.TypeBool, "phone": sdk.TypeString}
	for name, typ := range want {
		if types[name] != typ {
			t.Errorf("%s: type %v, want %v", name, types[name], typ)
		}
	}
	if err := p.CheckCredentials(context.Background(), creds); err != nil {
		t.Fatalf("good token: %v", err)
	}
	bad := sdk.Credentials{hubspot.CredAccessToken: "pat-na1-wrong", hubspot.CredBaseURL: srv.URL}
	if err := p.CheckCredentials(context.Background(), bad); sdk.ClassOf(err) != sdk.ClassAuth || !strings.Contains(err.Error(), "token rejected") {
		t.Fatalf("bad token: %v", err)
	}
	srv.SetMissingScopes("crm.objects.contacts.read")
	if err := p.CheckCredentials(context.Background(), creds); sdk.ClassOf(err) != sdk.ClassAuth || !strings.Contains(err.Error(), "lacks scope(s) crm.objects.contacts.read") {
		t.Fatalf("missing scope: %v", err)
	}
	wrongPath := sdk.Credentials{hubspot.CredAccessToken: srv.Token(), hubspot.CredBaseURL: srv.URL, hubspot.CredObjectsPath: "/crm/v3/objects/contactz"}
	srv.SetMissingScopes()
	if err := p.CheckCredentials(context.Background(), wrongPath); sdk.ClassOf(err) != sdk.ClassPermanent || !strings.Contains(err.Error(), "objects_path") {
		t.Fatalf("wrong objects_path: %v", err)
	}
	if _, err := p.ListFields(context.Background(), creds, "spaceship"); sdk.ClassOf(err) != sdk.ClassPermanent {
		t.Fatalf("unknown object type: %v", err)
	}
}

func TestDescribe(t *testing.T) {
	m, err := hubspot.New().Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "hubspot" || m.ProtocolVersion != sdk.ProtocolVersion || !slices.Equal(m.Capabilities, []string{sdk.CapabilityFetch, sdk.CapabilityWriteback, sdk.CapabilityListFields, sdk.CapabilityReconcile, sdk.CapabilityLogCall}) {
		t.Fatalf("manifest %+v", m)
	}
	secret := map[string]bool{}
	for _, f := range m.CredentialFields {
		secret[f.Name] = f.Secret
		if f.Name == hubspot.CredAccessToken && !f.Required {
			t.Error("access_token not required")
		}
	}
	if !secret[hubspot.CredAccessToken] || !secret[hubspot.CredClientSecret] || secret[hubspot.CredBaseURL] {
		t.Errorf("secret flags %v", secret)
	}
}
