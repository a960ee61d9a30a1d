package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/gateway/store/postgres"
	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
)

// boltInstall is a stopped gateway's data dir with three events (one
// pending), a call with its contact entry and notification, and a DND
// number.
func boltInstall(t *testing.T) (dir string, ids []string) {
	t.Helper()
	dir = t.TempDir()
	db, err := bolt.Open(bolt.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var evs []store.Event
	for i, status := range []string{"", store.EventIgnored, store.EventIgnored} {
		evs = append(evs, store.Event{Key: fmt.Sprint("k", i), AgentID: "sales", Type: "hubspot", Integration: "hubspot",
			ObjectType: "contact", ObjectID: fmt.Sprint(i), Status: status, Reason: "not a creation"})
	}
	res, err := db.AppendEvents(ctx, evs, store.AppendOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range res.Events {
		ids = append(ids, ev.ID)
	}
	next := now.Add(time.Hour)
	c, _, err := db.CreateCall(ctx, store.Call{AgentID: "sales", ToNumber: "+4930000001", Status: store.CallScheduled, Dialer: "voice",
		NextAttemptAt: &next}, store.CreateOptions{ContactKey: "hubspot::contact:0", DedupeWindow: time.Hour, Now: now,
		Outbox: []store.OutboxItem{{Kind: store.OutboxWebhook, URL: "http://127.0.0.1:1/hook", Body: []byte(`{}`), NextAt: now}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddDND(ctx, "+4930000009", "asked", now); err != nil {
		t.Fatal(err)
	}
	return dir, append(ids, c.ID)
}

func TestStoreCopyCommand(t *testing.T) {
	dir, ids := boltInstall(t)
	file := filepath.Join(dir, bolt.FileName)
	db := pgtest.Empty(t) // copy migrates it
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	cfgDir := t.TempDir()
	pgConfig := writeFile(t, cfgDir, "pg.hcl", fmt.Sprintf("store {\n  backend = \"postgres\"\n  url = %q\n}\n", db))
	boltConfig := writeFile(t, cfgDir, "bolt.hcl", "server {\n  data_dir = \"./data\"\n}\n")
	summary := "copied 10 items from " + file + " to " + strings.Replace(db, ":"+password+"@", ":xxxxx@", 1)
	for _, step := range []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"first copy", []string{"store", "copy", "--from", file, "--to", db, "--batch", "3"}, 0, summary, "schema upgraded from version 0"},
		{"again", []string{"store", "copy", "--from", file, "--to", db}, 0, summary, "up to date"},
		{"through the config", []string{"store", "copy", "--from", file, "--to-config", pgConfig}, 0, "  events           3\n", ""},
		{"a bolt config names no database", []string{"store", "copy", "--from", file, "--to-config", boltConfig}, 1, "", "the store is bolt"},
		{"no source", []string{"store", "copy", "--to", db}, 1, "", "--from is required"},
		{"no database", []string{"store", "copy", "--from", file}, 1, "", "--to postgres://"},
		{"not a URL", []string{"store", "copy", "--from", file, "--to", "db.internal"}, 1, "", "want a PostgreSQL URL"},
		{"both targets", []string{"store", "copy", "--from", file, "--to", db, "--to-config", pgConfig}, 1, "", "not both"},
		{"a missing file", []string{"store", "copy", "--from", filepath.Join(dir, "nope.db"), "--to", db}, 1, "", "no such file"},
		{"a zero batch", []string{"store", "copy", "--from", file, "--to", db, "--batch", "0"}, 1, "", "--batch must be at least 1"},
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
	if code := run([]string{"store", "copy", "-o", "json", "--from", file, "--to", db}, &stdout, &stderr, env(nil)); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var r copyResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("-o json: %v\n%s", err, stdout.String())
	}
	want := copyResult{From: file, To: r.To, Seconds: r.Seconds, Total: 10, Events: 3, Keys: 3, Calls: 1, Contacts: 1, Outbox: 1, DND: 1}
	if r != want || password != "" && strings.Contains(r.To, ":"+password+"@") {
		t.Fatalf("-o json: %+v, want %+v", r, want)
	}

	// Three runs later the database holds the file's records once each.
	pg, err := postgres.Open(context.Background(), postgres.Options{URL: db})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	ctx := context.Background()
	for _, id := range ids[:3] {
		if _, err := pg.GetEvent(ctx, id); err != nil {
			t.Errorf("copied event: %v", err)
		}
	}
	if c, err := pg.GetCall(ctx, ids[3]); err != nil || c.Status != store.CallScheduled {
		t.Errorf("copied call: %+v, %v", c, err)
	}
	evs, _, err := pg.ListEvents(ctx, store.EventFilter{Limit: 100})
	if n, _ := pg.CountCalls(ctx, store.CallFilter{}); err != nil || len(evs) != 3 || n != 1 {
		t.Errorf("after four copies: %d events, %d calls (%v); want 3 and 1", len(evs), n, err)
	}
	if pending, err := pg.PendingEvents(ctx); err != nil || pending != 1 {
		t.Errorf("pending after the copies: %d, %v; want 1", pending, err)
	}
}

// TestStoreCopyLockedFile: a running gateway's file cannot be read; the
// error says what to do instead.
func TestStoreCopyLockedFile(t *testing.T) {
	dir, _ := boltInstall(t)
	running, err := bolt.Open(bolt.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer running.Close()
	var stdout, stderr bytes.Buffer
	// The target is never reached: the file is opened first.
	code := run([]string{"store", "copy", "--from", filepath.Join(dir, bolt.FileName), "--to", "postgres://u:p@127.0.0.1:1/x"}, &stdout, &stderr, env(nil))
	if code != 1 || !strings.Contains(stderr.String(), "locked by another process") ||
		!strings.Contains(stderr.String(), "stop the gateway, or copy from `callgate backup --out FILE`") {
		t.Fatalf("exit %d\nstderr: %s", code, stderr.String())
	}
}
