package notify_test

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/notify"
	"github.com/callgate/callgate/gateway/store"
)

// TestURLTokensStayInTheConfig: a notify URL's token is never written to
// the data file (nor so to its backups); delivery still sends it, read
// from the running config.
func TestURLTokensStayInTheConfig(t *testing.T) {
	rcv := newReceiver(t)
	const token = "tok-5e3f9a1c7d"
	agentURLs := []string{rcv.URL + "/agent?token=" + token + "-agent", rcv.URL + "/agent?token=" + token + "-second"}
	e := setup(t, func(c *notify.Config) {
		c.ServerURLs = []string{"https://ops:" + token + "-pw@127.0.0.1:1/server"}
		c.AgentURLs = func(string) []string { return agentURLs }
	})
	c, a := ended(store.CallRetryScheduled)
	items := e.n.Items(c, a, false)
	enqueue(t, e, items)
	for _, it := range items {
		if strings.Contains(it.URL, token) {
			t.Errorf("item URL %q carries the token", it.URL)
		}
	}
	raw, err := os.ReadFile(e.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(token)) {
		t.Fatal("the data file holds the notify URL's token")
	}
	var backup bytes.Buffer
	if _, err := e.db.WriteBackup(context.Background(), &backup, nil); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(backup.Bytes(), []byte(token)) {
		t.Fatal("a backup holds the notify URL's token")
	}

	e.n.DeliverDue(context.Background())
	reqs, _ := rcv.requests()
	var got []string
	for _, r := range reqs {
		got = append(got, r.URL.RequestURI())
	}
	slices.Sort(got)
	if len(got) != 2 || got[0] != "/agent?token="+token+"-agent" || got[1] != "/agent?token="+token+"-second" {
		t.Fatalf("receiver got %q, want each agent URL with its own token", got)
	}

	t.Run("a URL that left the config is a dead letter with the reason", func(t *testing.T) {
		c.Status = store.CallCompleted
		agentURLs = []string{rcv.URL + "/agent?token=" + token}
		items := e.n.Items(c, a, true)
		agentURLs = nil // removed before delivery
		enqueue(t, e, items)
		e.n.DeliverDue(context.Background())
		list, _, err := e.db.ListOutbox(context.Background(), store.OutboxFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var dead []store.OutboxItem
		for _, it := range list {
			if it.Dead {
				dead = append(dead, it)
			}
		}
		if len(dead) != 1 || !strings.Contains(dead[0].LastError, "notify URL "+rcv.URL+"/agent is no longer in the config") {
			t.Fatalf("dead letters = %+v, want the agent URL's with the reason", dead)
		}
	})

	t.Run("an item written with its full URL by an older version is still sent", func(t *testing.T) {
		old := store.OutboxItem{Kind: store.OutboxWebhook, URL: rcv.URL + "/legacy?token=old", Body: []byte(`{}`), AgentID: "sales-intro", NextAt: e.clk.Now()}
		enqueue(t, e, []store.OutboxItem{old})
		e.n.DeliverDue(context.Background())
		reqs, _ := rcv.requests()
		if last := reqs[len(reqs)-1].URL.RequestURI(); last != "/legacy?token=old" {
			t.Fatalf("last request = %s", last)
		}
	})
}
