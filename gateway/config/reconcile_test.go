package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestReconcileBlock(t *testing.T) {
	cfg, err := LoadWithEnv("r.hcl", []byte(`
integration "hubspot" {
  access_token = "pat-1"
  reconcile {
    every    = "1s"
    lookback = "2h"
    settle   = "0s"
    modified = true
  }
}
integration "leadsquared" {
  access_key = "k"
  reconcile {
    every = "15m"
  }
}
integration "deals" {
  type = "hubspot"
  access_token = "pat-3"
  reconcile {
    every   = "1m"
    objects = ["deal", "contact"]
  }
}
integration "plain" {
  type = "hubspot"
  access_token = "pat-2"
}
`), noEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	hs := cfg.Integrations["hubspot"]
	if got, want := *hs.Reconcile, (Reconcile{Every: time.Second, Lookback: 2 * time.Hour, Modified: true, Objects: []string{"contact"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("hubspot reconcile = %+v, want %+v", got, want)
	}
	if _, ok := hs.Credentials["reconcile"]; ok || hs.Credentials["access_token"] != "pat-1" {
		t.Errorf("credentials = %v: the block must not become a credential", hs.Credentials)
	}
	if got, want := *cfg.Integrations["leadsquared"].Reconcile, (Reconcile{Every: 15 * time.Minute, Lookback: DefaultReconcileLookback, Settle: DefaultReconcileSettle, Objects: []string{"lead"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("leadsquared reconcile = %+v, want %+v (the default lookback)", got, want)
	}
	if got := cfg.Integrations["deals"].Reconcile.Objects; !reflect.DeepEqual(got, []string{"deal", "contact"}) {
		t.Errorf("deals objects = %v", got)
	}
	if r := cfg.Integrations["plain"].Reconcile; r != nil {
		t.Errorf("no block: reconcile = %+v, want nil (opt-in)", r)
	}
}

func TestReconcileBlockProblems(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"every missing", "integration \"hubspot\" {\n  reconcile {\n    lookback = \"1h\"\n  }\n}\n", `2:3: reconcile needs every`},
		{"every too short", "integration \"hubspot\" {\n  reconcile {\n    every = \"500ms\"\n  }\n}\n", `3:13: reconcile every: 500ms is shorter than 1s`},
		{"every not a duration", "integration \"hubspot\" {\n  reconcile {\n    every = \"often\"\n  }\n}\n", `3:13: every: "often" is not a duration`},
		{"lookback zero", "integration \"hubspot\" {\n  reconcile {\n    every = \"1m\"\n    lookback = \"0s\"\n  }\n}\n", `4:16: reconcile lookback must be positive`},
		{"settle negative", "integration \"hubspot\" {\n  reconcile {\n    every = \"1m\"\n    settle = \"-1s\"\n  }\n}\n", `4:14: settle: "-1s" must not be negative`},
		{"modified not bool", "integration \"hubspot\" {\n  reconcile {\n    every = \"1m\"\n    modified = \"yes\"\n  }\n}\n", `4:16: modified must be`},
		{"unknown key", "integration \"hubspot\" {\n  reconcile {\n    every = \"1m\"\n    since = \"1h\"\n  }\n}\n", `4:5: Unsupported argument`},
		{"second block", "integration \"hubspot\" {\n  reconcile {\n    every = \"1m\"\n  }\n  reconcile {\n    every = \"2m\"\n  }\n}\n", `5:3: integration "hubspot" has a second reconcile block (the first is at line 2)`},
		{"objects empty", "integration \"hubspot\" {\n  reconcile {\n    every = \"1m\"\n    objects = []\n  }\n}\n", `4:15: reconcile objects must name at least one object type`},
		{"objects needed for another plugin", "integration \"pipedrive\" {\n  reconcile {\n    every = \"1m\"\n  }\n}\n", `1:1: integration "pipedrive": reconcile needs objects`},
		{"other nested block", "integration \"hubspot\" {\n  retry {\n  }\n}\n", `2:3: Unexpected "retry" block`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadWithEnv("t.hcl", []byte(tt.src), noEnv(nil))
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if !strings.Contains(err.Error(), "t.hcl:"+tt.want) {
				t.Errorf("err = %v\nwant a problem %q", err, tt.want)
			}
		})
	}
}
