package config

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

var hubspotProps = []Property{
	{Name: "firstname", Label: "First Name"},
	{Name: "lastname", Label: "Last Name"},
	{Name: "mobilephone", Label: "Mobile Phone Number"},
	{Name: "phone", Label: "Phone Number"},
	{Name: "lifecyclestage", Label: "Lifecycle Stage"},
	{Name: "city", Label: "City"},
}

var leadsquaredProps = []Property{
	{Name: "FirstName", Label: "First Name"},
	{Name: "Phone", Label: "Phone Number"},
	{Name: "mx_City", Label: "City"},
}

func TestDidYouMean(t *testing.T) {
	tests := []struct {
		field string
		props []Property
		want  string
	}{
		{"first_name", hubspotProps, "firstname"},
		{"FirstName", hubspotProps, "firstname"},
		{"firstnam", hubspotProps, "firstname"},
		{"lifecycle_stage", hubspotProps, "lifecyclestage"},
		{"mobile_phone", hubspotProps, "mobilephone"},
		{"cty", hubspotProps, "city"},
		{"phone_number", hubspotProps, "phone"}, // by its label "Phone Number"
		{"favourite_colour", hubspotProps, ""},  // nothing close
		{"x", hubspotProps, ""},
		{"city", leadsquaredProps, "mx_City"}, // by the label
		{"firstname", leadsquaredProps, "FirstName"},
		{"first_name", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			if got := DidYouMean(tt.field, tt.props); got != tt.want {
				t.Errorf("DidYouMean(%q) = %q, want %q", tt.field, got, tt.want)
			}
		})
	}
}

func TestCheckFields(t *testing.T) {
	cfg, err := LoadWithEnv("fields.hcl", []byte(`
integration "hubspot" {
  access_token = "t"
}
integration "lsq" {
  type       = "leadsquared"
  access_key = "k"
  secret_key = "s"
}
integration "down" {
  type         = "hubspot"
  access_token = "t"
}
dialer "log" {
  type = "log"
}
agent "sales-intro" {
  integrations = ["hubspot"]
  phone_fields = ["mobile_phone", "phone"]
  when         = "contact.lifecycle_stage == 'lead' && contact.firstname != ''"
  variables = {
    name = "contact.first_name ?? 'there'"
    city = "contact[event.property] ?? ''"
  }
}
agent "lsq-intro" {
  integrations = ["lsq"]
  variables = {
    city = "contact.city"
    name = "contact.FirstName"
  }
}
agent "both" {
  integrations = ["hubspot", "down"]
  variables = { name = "contact.firstname" }
}
agent "defaults" {
  integrations = ["hubspot"]
}
`), noEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	list := func(_ context.Context, integration string) ([]Property, error) {
		calls[integration]++
		switch integration {
		case "hubspot":
			return hubspotProps, nil
		case "lsq":
			return leadsquaredProps, nil
		}
		return nil, errors.New("transient: hubspot: could not reach api.hubapi.com")
	}
	got := CheckFields(context.Background(), cfg, list)
	want := []FieldWarning{
		{Agent: "lsq-intro", Integration: "lsq", Field: "city", Suggestion: "mx_City"},
		{Agent: "sales-intro", Integration: "hubspot", Field: "first_name", Suggestion: "firstname"},
		{Agent: "sales-intro", Integration: "hubspot", Field: "lifecycle_stage", Suggestion: "lifecyclestage"},
		{Agent: "sales-intro", Integration: "hubspot", Field: "mobile_phone", Suggestion: "mobilephone"},
	}
	if !reflect.DeepEqual(got.Warnings, want) {
		t.Errorf("warnings:\n got %+v\nwant %+v", got.Warnings, want)
	}
	if len(got.Unchecked) != 1 || got.Unchecked[0].Integration != "down" {
		t.Errorf("unchecked = %+v, want only down", got.Unchecked)
	}
	for in, n := range calls {
		if n != 1 {
			t.Errorf("%s read %d times, want once", in, n)
		}
	}
	if s := want[1].String(); s != "agent sales-intro: contact.first_name: no such property in hubspot; did you mean firstname?" {
		t.Errorf("String() = %q", s)
	}
	if m := (FieldWarning{Agent: "a", Integration: "hubspot", Field: "zzz"}).Message(); m != "contact.zzz: no such property in hubspot" {
		t.Errorf("Message() without a suggestion = %q", m)
	}
	if by := got.ByAgent(); len(by["sales-intro"]) != 3 || len(by["both"]) != 0 {
		t.Errorf("ByAgent() = %v", by)
	}
}

func TestLoadWithPlaceholders(t *testing.T) {
	src := []byte(`
integration "hubspot" {
  access_token  = env("HS_TOKEN")
  client_secret = env("HS_SECRET")
  base_url      = env("HS_BASE_URL", "http://127.0.0.1:8090")
}
dialer "log" {
  type = "log"
}
agent "a" {}
`)
	cfg, unset, err := LoadWithPlaceholders("p.hcl", src, noEnv(map[string]string{"HS_SECRET": "s3"}), "placeholder")
	if err != nil {
		t.Fatal(err)
	}
	creds := cfg.Integrations["hubspot"].Credentials
	if creds["access_token"] != "placeholder" || creds["client_secret"] != "s3" || creds["base_url"] != "http://127.0.0.1:8090" {
		t.Errorf("credentials %v: want the placeholder for the unset token, the set secret, the default base_url", creds)
	}
	if !reflect.DeepEqual(unset, []string{"HS_TOKEN"}) {
		t.Errorf("unset = %v, want [HS_TOKEN] (a variable with a default is not missing)", unset)
	}
	if _, err := LoadWithEnv("p.hcl", src, noEnv(nil)); err == nil {
		t.Error("LoadWithEnv accepted unset variables")
	}
}
