package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.hcl", "dialer \"log\" {\n  type = \"log\"\n}\n")
	bad := writeFile(t, dir, "bad.hcl", "server {\n  listen = \"x\"\n}\ndialer \"d\" {\n  type = \"fax\"\n}\n")
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"config check ok", []string{"config", "check", good}, 0, "ok\n", ""},
		{"config check problems", []string{"config", "check", bad}, 1, "", bad + ":2:12: listen: \"x\" is not host:port"},
		{"config check counts", []string{"config", "check", bad}, 1, "", "2 problem(s)"},
		{"config check needs a file", []string{"config", "check"}, 1, "", "missing FILE (usage: callgate config check FILE [flags])"},
		{"version", []string{"version"}, 0, "callgate dev\n", ""},
		{"bad output flag", []string{"--output", "xml", "version"}, 1, "", `--output must be json or table, not "xml"`},
		{"unknown command", []string{"dial"}, 1, "", `unknown command "dial"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr, env(nil))
			if code != tt.code {
				t.Fatalf("exit = %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Fatalf("stdout %q want %q; stderr %q want %q", stdout.String(), tt.stdout, stderr.String(), tt.stderr)
			}
		})
	}
}

func TestConfigCheckJSON(t *testing.T) {
	bad := writeFile(t, t.TempDir(), "bad.hcl", "server {\n  log_format = \"xml\"\n}\n")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"config", "check", "-o", "json", bad}, &stdout, &stderr, env(nil)); code != 1 {
		t.Fatalf("exit = %d", code)
	}
	var res checkResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	if res.OK || len(res.Problems) != 1 || res.Problems[0].Line != 2 || res.Problems[0].Column != 16 {
		t.Errorf("result = %+v", res)
	}
}

func TestVersionJSON(t *testing.T) {
	var stdout bytes.Buffer
	if code := run([]string{"version", "--output", "json"}, &stdout, &stdout, env(nil)); code != 0 {
		t.Fatalf("exit = %d: %s", code, stdout.String())
	}
	var b buildInfo
	if err := json.Unmarshal(stdout.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	if b.Version == "" || b.Commit == "" || !strings.HasPrefix(b.Go, "go") || b.Platform == "" {
		t.Errorf("build info = %+v", b)
	}
}

func TestRootFlagsFromEnvironment(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantAddr  string
		wantToken string
	}{
		{"defaults", []string{"version"}, nil, DefaultAddr, ""},
		{"environment", []string{"version"}, map[string]string{EnvAddr: "http://10.0.0.1:8080/", EnvToken: "t1"}, "http://10.0.0.1:8080", "t1"},
		{"flags win", []string{"--addr", "http://h:1", "--token", "t2", "version"}, map[string]string{EnvAddr: "http://10.0.0.1:8080", EnvToken: "t1"}, "http://h:1", "t2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			o := &rootOptions{Stdout: &out, Stderr: &out, Getenv: env(tt.env)}
			root := newRootCmd(o)
			root.SetArgs(tt.args)
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if o.Addr != tt.wantAddr || o.Token != tt.wantToken {
				t.Errorf("addr %q token %q, want %q %q", o.Addr, o.Token, tt.wantAddr, tt.wantToken)
			}
		})
	}
}

func TestHelpNeverShowsTheEnvironmentToken(t *testing.T) {
	var out bytes.Buffer
	code := run([]string{"--help"}, &out, &out, env(map[string]string{EnvToken: "super-secret-token"}))
	if code != 0 || strings.Contains(out.String(), "super-secret-token") || !strings.Contains(out.String(), "serve") {
		t.Fatalf("help (%d):\n%s", code, out.String())
	}
}

func TestLoadServeConfig(t *testing.T) {
	dir := t.TempDir()
	t.Run("no file, no flag: built-in defaults", func(t *testing.T) {
		cfg, file, err := loadServeConfig(filepath.Join(dir, "callgate.hcl"), false)
		if err != nil || file != "" || cfg.Dialers["log"] == nil {
			t.Fatalf("cfg %+v file %q err %v", cfg, file, err)
		}
	})
	t.Run("named file missing is an error", func(t *testing.T) {
		if _, _, err := loadServeConfig(filepath.Join(dir, "callgate.hcl"), true); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("default file present", func(t *testing.T) {
		p := writeFile(t, dir, "callgate.hcl", "server {\n  listen = \"127.0.0.1:9999\"\n}\n")
		cfg, file, err := loadServeConfig(p, false)
		if err != nil || file != p || cfg.Server.Listen != "127.0.0.1:9999" {
			t.Fatalf("cfg %+v file %q err %v", cfg, file, err)
		}
	})
}
