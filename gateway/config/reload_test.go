package config

import (
	"strings"
	"testing"
	"time"
)

const reloadBase = `
server {
  admin_token_sha256 = ["20357603bbd1490b9215bd7cfff9421bccf4d9131bd54e4ac53ce12caf5fbc32"]
}
api_key "hubspot" {
  sha256 = "0a6e1d0bcf58ec2b22c36e4e0c5e01ba5bd9e1c7c11a8bd1c9a5cc0f1d47e8e2"
}
integration "hubspot" {
  access_token = "pat"
}
integration "other" {
  type         = "hubspot"
  access_token = "pat2"
}
dialer "log" {
  type = "log"
}
agent "sales" {
  integrations = ["hubspot"]
}
agent "support" {}
`

func mustLoad(t *testing.T, src string) *Config {
	t.Helper()
	cfg, err := LoadWithEnv("callgate.hcl", []byte(src), noEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestCheckReload(t *testing.T) {
	prev := mustLoad(t, reloadBase)
	tests := []struct {
		name    string
		next    string
		pending Pending
		want    []string // each a refusal; none: accepted
	}{
		{name: "the same file", next: reloadBase},
		{name: "an empty file", next: "", want: []string{
			"callgate.hcl has no agent blocks, but the running config has 2 (sales, support)",
			"has no api_key blocks, but the running config has 1 (hubspot)",
			"has no server.admin_token_sha256, but the running config has 1 admin token(s)",
		}},
		{name: "one agent removed", next: strings.Replace(reloadBase, "agent \"support\" {}", "", 1)},
		{name: "one agent removed while its events are pending (they wait)",
			next:    strings.Replace(reloadBase, "agent \"support\" {}", "", 1),
			pending: Pending{"support": {"hubspot": 3}}},
		{name: "every API key removed", next: strings.Replace(reloadBase, `api_key "hubspot" {`, `integration "x" {`, 1),
			want: []string{"a reload that removes every API key is refused (every webhook would be answered 403)"}},
		{name: "every admin token removed", next: strings.Replace(reloadBase, `admin_token_sha256 = ["20357603bbd1490b9215bd7cfff9421bccf4d9131bd54e4ac53ce12caf5fbc32"]`, "", 1),
			want: []string{"a reload that removes every admin token is refused"}},
		{name: "the integration of pending events removed",
			next:    strings.Replace(strings.Replace(reloadBase, "integration \"hubspot\" {\n  access_token = \"pat\"\n}", "", 1), `integrations = ["hubspot"]`, `integrations = ["other"]`, 1),
			pending: Pending{"sales": {"hubspot": 2}},
			want:    []string{`removes integration(s) hubspot, which every one of agent "sales"'s 2 pending event(s) came through`}},
		{name: "one of two integrations of pending events kept",
			next:    strings.Replace(strings.Replace(reloadBase, "integration \"hubspot\" {\n  access_token = \"pat\"\n}", "", 1), `integrations = ["hubspot"]`, `integrations = ["other"]`, 1),
			pending: Pending{"sales": {"hubspot": 2, "other": 1}}},
		{name: "an integration without pending events removed",
			next:    strings.Replace(reloadBase, "integration \"other\" {\n  type         = \"hubspot\"\n  access_token = \"pat2\"\n}", "", 1),
			pending: Pending{"sales": {"hubspot": 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckReload(prev, mustLoad(t, tt.next), tt.pending)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			cerr, ok := AsError(err)
			if !ok {
				t.Fatalf("err = %v, want a config *Error", err)
			}
			if got := len(cerr.Problems()); got != len(tt.want) {
				t.Errorf("%d problems, want %d:\n%v", got, len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("refusal lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestCheckReloadFromNothing(t *testing.T) {
	// A gateway started on an empty file may be given its first agents and
	// keys, and an empty file again is no loss.
	empty := mustLoad(t, "")
	if err := CheckReload(empty, mustLoad(t, reloadBase), nil); err != nil {
		t.Fatalf("adding the first agents refused: %v", err)
	}
	if err := CheckReload(empty, empty, nil); err != nil {
		t.Fatalf("empty to empty refused: %v", err)
	}
}

func TestOrphanGrace(t *testing.T) {
	if got := mustLoad(t, "").Server.OrphanGrace; got != DefaultOrphanGrace {
		t.Errorf("default orphan_grace = %s, want %s", got, DefaultOrphanGrace)
	}
	if got := mustLoad(t, "server {\n  orphan_grace = \"2h\"\n}\n").Server.OrphanGrace; got != 2*time.Hour {
		t.Errorf("orphan_grace = %s, want 2h", got)
	}
	_, err := LoadWithEnv("c.hcl", []byte("server {\n  orphan_grace = \"soon\"\n}\n"), noEnv(nil))
	if err == nil || !strings.Contains(err.Error(), `c.hcl:2:18: orphan_grace: "soon" is not a duration`) {
		t.Errorf("bad orphan_grace: %v", err)
	}
}
