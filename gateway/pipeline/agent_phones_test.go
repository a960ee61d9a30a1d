package pipeline_test

import (
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/pipeline"
	"github.com/callgate/callgate/sdk"
)

// Views and dry runs resolve an agent's phone fields as the pipeline does
// for an event: its own, else its plugin's manifest's.
func TestAgentPhoneFields(t *testing.T) {
	cfg, err := config.LoadBytes("t.hcl", []byte(`
integration "lsq" {
  type       = "leadsquared"
  access_key = "k"
  secret_key = "s"
}
integration "hubspot" {
  access_token = "t"
}
dialer "log" {
  type = "log"
}
agent "lsq" {
  integrations = ["lsq"]
}
agent "own" {
  integrations = ["lsq"]
  phone_fields = ["mx_Alt"]
}
agent "any" {
}
`))
	if err != nil {
		t.Fatal(err)
	}
	manifests := map[string]sdk.Manifest{
		"leadsquared": {Name: "leadsquared", PhoneFields: []string{"Mobile", "Phone"}},
		"hubspot":     {Name: "hubspot", PhoneFields: []string{"mobilephone", "phone"}},
	}
	known := func(name string) (sdk.Manifest, bool) { m, ok := manifests[name]; return m, ok }
	none := func(string) (sdk.Manifest, bool) { return sdk.Manifest{}, false }
	tests := []struct {
		name, agent string
		manifest    func(string) (sdk.Manifest, bool)
		wantPlugins string
		wantFields  string
		wantFrom    string
	}{
		{"plugin's", "lsq", known, "leadsquared", "Mobile,Phone", "plugin leadsquared"},
		{"agent's", "own", known, "leadsquared", "mx_Alt", "agent"},
		{"every integration's, first by name", "any", known, "hubspot,leadsquared", "mobilephone,phone", "plugin hubspot"},
		{"no manifest", "lsq", none, "leadsquared", "", ""},
		{"no manifest, agent's", "own", none, "leadsquared", "mx_Alt", "agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ag := cfg.Agents[tt.agent]
			if got := strings.Join(pipeline.AgentPlugins(cfg, ag), ","); got != tt.wantPlugins {
				t.Errorf("AgentPlugins = %s, want %s", got, tt.wantPlugins)
			}
			fields, from := pipeline.AgentPhoneFields(cfg, ag, tt.manifest)
			if strings.Join(fields, ",") != tt.wantFields || from != tt.wantFrom {
				t.Errorf("AgentPhoneFields = %v from %q, want %s from %q", fields, from, tt.wantFields, tt.wantFrom)
			}
		})
	}
}
