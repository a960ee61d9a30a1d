package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
)

func TestMigrateCommand(t *testing.T) {
	db := pgtest.Empty(t)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	dir := t.TempDir()
	cfg := writeFile(t, dir, "pg.hcl", fmt.Sprintf("store {\n  backend = \"postgres\"\n  url = %q\n}\n", db))
	bolt := writeFile(t, dir, "bolt.hcl", "server {\n  data_dir = \"./data\"\n}\n")
	for _, step := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"status of an empty database", []string{"migrate", "status", "--config", cfg}, 0, "schema at version 0 of", ""},
		{"up", []string{"migrate", "up", "--config", cfg}, 0, "schema upgraded from version 0 to", ""},
		{"up again", []string{"migrate", "up", "--config", cfg}, 0, "up to date", ""},
		{"status after", []string{"migrate", "status", "--config", cfg}, 0, "up to date", ""},
		{"a bolt store has no schema", []string{"migrate", "up", "--config", bolt}, 1, "", "the store is bolt"},
		{"the config is needed", []string{"migrate", "status"}, 1, "", "--config FILE"},
	} {
		t.Run(step.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(step.args, &stdout, &stderr, env(nil))
			if code != step.code || !strings.Contains(stdout.String(), step.stdout) || !strings.Contains(stderr.String(), step.stderr) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, step.code, stdout.String(), stderr.String())
			}
			if password != "" && strings.Contains(stdout.String()+stderr.String(), ":"+password+"@") {
				t.Fatalf("the password is shown:\n%s%s", stdout.String(), stderr.String())
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"migrate", "status", "-o", "json", "--config", cfg}, &stdout, &stderr, env(nil)); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var r schemaReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil || r.Current == 0 || r.Current != r.Latest || len(r.Pending) != 0 {
		t.Fatalf("status -o json: %+v, %v\n%s", r, err, stdout.String())
	}
}
