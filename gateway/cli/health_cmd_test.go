package cli

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthCommand(t *testing.T) {
	ready := http.StatusServiceUnavailable
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("health sent a token to %s", r.URL.Path)
		}
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte(`{"status":"ok","message":"callgate is up"}`))
		case "/readyz":
			w.WriteHeader(ready)
			w.Write([]byte(`{"status":"error","message":"not ready: plugins: hubspot: restarting"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"healthy", []string{"health", "--addr", srv.URL}, 0, srv.URL + "/healthz: ok: callgate is up\n", ""},
		{"not ready", []string{"health", "--ready", "--addr", srv.URL}, 1, "", "/readyz answered 503: error: not ready: plugins: hubspot: restarting"},
		{"no scheme", []string{"health", "--addr", "127.0.0.1:8080"}, 1, "", `--addr "127.0.0.1:8080": give the gateway's URL with its scheme`},
		{"nothing listening", []string{"health", "--addr", "http://127.0.0.1:1"}, 1, "", "http://127.0.0.1:1/healthz: "},
		{"bad timeout", []string{"health", "--addr", srv.URL, "--timeout", "0s"}, 1, "", "--timeout must be positive"},
		{"no arguments", []string{"health", "extra", "--addr", srv.URL}, 1, "", "unknown command \"extra\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr, env(nil))
			if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", code, tt.code, stdout.String(), tt.stdout, stderr.String(), tt.stderr)
			}
		})
	}
}
