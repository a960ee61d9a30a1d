package pgtest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
)

// TestChild asks for a database; the tests below run it in a child
// process with the environment they test.
func TestChild(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") != "1" {
		t.Skip("run by TestWithoutTheServer")
	}
	pgtest.URL(t)
}

func TestWithoutTheServer(t *testing.T) {
	for _, tc := range []struct {
		name, require, want string
		fails               bool
	}{
		{"a developer's machine: skip", "", "PostgreSQL tests skipped: set " + pgtest.Env, false},
		{"CI: fail", "1", pgtest.RequireEnv + "=1 but " + pgtest.Env + " is not set", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.v")
			cmd.Env = append(os.Environ(), "PGTEST_CHILD=1", pgtest.Env+"=", pgtest.RequireEnv+"="+tc.require)
			out, err := cmd.CombinedOutput()
			if (err != nil) != tc.fails || !strings.Contains(string(out), tc.want) {
				t.Fatalf("child exited with %v, output:\n%s", err, out)
			}
		})
	}
}

// Each test gets its own migrated database, gone after the test.
func TestURLIsFreshAndDropped(t *testing.T) {
	var name string
	t.Run("user", func(t *testing.T) {
		url := pgtest.URL(t)
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var events int
		if err := conn.QueryRow(context.Background(), "SELECT current_database(), (SELECT count(*) FROM events)").Scan(&name, &events); err != nil {
			t.Fatalf("a migrated, empty database: %v", err)
		}
		if other := pgtest.URL(t); other == url {
			t.Fatal("two databases share a URL")
		}
	})
	if name == "" {
		return // skipped: no server
	}
	conn, err := pgx.Connect(context.Background(), os.Getenv(pgtest.Env))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var left bool
	if err := conn.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&left); err != nil || left {
		t.Fatalf("database %s left behind: %v %v", name, left, err)
	}
}
