package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLimitsDefaults(t *testing.T) {
	cfg, err := LoadWithEnv("t.hcl", []byte("server {\n}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Server.Limits, DefaultLimits(); !reflect.DeepEqual(got, want) {
		t.Errorf("limits = %+v, want the defaults %+v", got, want)
	}
	if !reflect.DeepEqual(Default().Server.Limits, DefaultLimits()) {
		t.Error("the built-in config does not carry the default limits")
	}
}

func TestLimitsRead(t *testing.T) {
	cfg, err := LoadWithEnv("t.hcl", []byte(`
server {
  read_timeout = "5s"
  idle_timeout = "20s"
  max_connections = 200
  max_connections_per_ip = 8
  auth_fail_burst = 3
  auth_fail_rate = "30/h"
  trusted_proxies = ["10.0.0.0/8", "192.0.2.7", "::1", "::ffff:172.16.0.1"]
}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{
		ReadTimeout: 5 * time.Second, IdleTimeout: 20 * time.Second,
		MaxConnections: 200, MaxConnectionsPerIP: 8,
		AuthFailBurst: 3, AuthFailRate: 30.0 / 3600,
		TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
			netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("172.16.0.1/32"),
		},
	}
	if !reflect.DeepEqual(cfg.Server.Limits, want) {
		t.Errorf("limits = %+v\nwant %+v", cfg.Server.Limits, want)
	}
}

func TestLimitsProblems(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"zero read timeout", `read_timeout = "0s"`, "2:18: read_timeout must be more than zero"},
		{"bad idle timeout", `idle_timeout = "forever"`, `2:18: idle_timeout: "forever" is not a duration`},
		{"zero connections", `max_connections = 0`, "2:21: max_connections must be a positive whole number, got 0"},
		{"negative per ip", `max_connections_per_ip = -1`, "2:28: max_connections_per_ip must be a positive whole number, got -1"},
		{"bad rate", `auth_fail_rate = "ten"`, `2:20: auth_fail_rate: "ten" is not a rate`},
		{"zero burst", `auth_fail_burst = 0`, "2:21: auth_fail_burst must be a positive whole number"},
		{"bad proxy", `trusted_proxies = ["proxy.internal"]`, `2:21: trusted_proxies: "proxy.internal" is not an IP address or CIDR prefix`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadWithEnv("t.hcl", []byte("server {\n  "+tc.src+"\n}\n"), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
