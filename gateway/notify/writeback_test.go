package notify_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/notify"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/sdk"
)

// logCRM is a fake plugin client that logs calls: it remembers every
// LogCall and, like a CRM with find-before-create, answers the same id for
// the same key.
type logCRM struct {
	crm
	mu      sync.Mutex
	logs    []sdk.LogCallRequest
	logErrs []error
	ids     map[string]string
}

func (l *logCRM) LogCall(_ context.Context, req sdk.LogCallRequest) (sdk.LogCallResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.logs = append(l.logs, req)
	if len(l.logErrs) > 0 {
		err := l.logErrs[0]
		l.logErrs = l.logErrs[1:]
		return sdk.LogCallResult{}, err
	}
	if req.CheckOnly {
		return sdk.LogCallResult{}, nil
	}
	if l.ids == nil {
		l.ids = map[string]string{}
	}
	if _, ok := l.ids[req.Key]; !ok {
		l.ids[req.Key] = "crm-" + req.Key
	}
	var tasks []string
	for i := range req.Tasks {
		tasks = append(tasks, sdk.TaskKey(l.ids[req.Key], i))
	}
	return sdk.LogCallResult{ActivityID: l.ids[req.Key], TaskIDs: tasks}, nil
}

func (l *logCRM) calls() []sdk.LogCallRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sdk.LogCallRequest(nil), l.logs...)
}

var hubspotCaps = []string{sdk.CapabilityWriteback, sdk.CapabilityLogCall}

func logSetup(t *testing.T, fake *logCRM, rules *config.Writeback, caps []string) env {
	return setup(t, func(c *notify.Config) {
		c.Writeback = func(string) bool { return true }
		c.WritebackRules = func(string) *config.Writeback { return rules }
		c.Capabilities = func(string) []string { return caps }
		c.CRM = func(name string) (notify.CRMUpdater, sdk.Credentials, bool) {
			return fake, sdk.Credentials{"access_token": "pat-xyz"}, name == "hubspot"
		}
	})
}

// storedReported is a completed attempt with what the platform reported, stored.
func storedReported(t *testing.T, e env, status string) (store.Call, *store.Attempt) {
	t.Helper()
	c, _ := ended(status)
	a := &c.Attempts[1]
	a.Outcome, a.Reason, a.DurationS = store.OutcomeCompleted, "", 95.5
	a.RecordingURL, a.Summary, a.Disposition, a.FromNumber = "https://rec.example.com/a.mp3", "Wants a demo on Tuesday.", "interested", "+14155550100"
	a.Transcript = []store.Turn{{Speaker: "agent", Text: "Hello Ada"}, {Speaker: "user", Text: "Hi, book me a demo"}}
	a.Data = map[string]any{"qualified": true}
	c.Source.ObjectType = "contact"
	if _, _, err := e.db.CreateCall(context.Background(), c, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return c, a
}

func TestWritebackLogsEachAttemptOnce(t *testing.T) {
	fake := &logCRM{}
	e := logSetup(t, fake, nil, hubspotCaps)
	c, a := storedReported(t, e, store.CallRetryScheduled)
	enqueue(t, e, e.n.Items(c, a, false))
	ctx := context.Background()
	e.n.DeliverDue(ctx)
	logs := fake.calls()
	if len(logs) != 1 {
		t.Fatalf("LogCall called %d times", len(logs))
	}
	r := logs[0]
	want := sdk.LoggedCall{Direction: "outbound", Outcome: "completed", PlatformDisposition: "interested", Duration: 95500 * time.Millisecond,
		ToNumber: "+14155550123", FromNumber: "+14155550100", RecordingURL: "https://rec.example.com/a.mp3",
		Title: "AI call (sales-intro): completed", StartedAt: a.StartedAt.UTC(), ProviderCallID: "pc-7"}
	body := r.Call.Body
	r.Call.Body = ""
	if r.Key != "01JDCALL-2" || r.ObjectID != "123" || r.ObjectType != "contact" || r.Call != want {
		t.Errorf("request %+v\nwant call %+v", r, want)
	}
	if body != "Wants a demo on Tuesday.\n\nTranscript:\nagent: Hello Ada\nuser: Hi, book me a demo" {
		t.Errorf("default body %q", body)
	}
	if len(fake.reqs) != 0 {
		t.Errorf("a non-final attempt wrote status properties: %+v", fake.reqs)
	}
	if p, d, _ := e.db.OutboxDepth(context.Background()); p+d != 0 {
		t.Fatalf("outbox after delivery: %d pending, %d dead", p, d)
	}
	stored, _ := e.db.GetCall(context.Background(), c.ID)
	act := stored.Attempts[1].Activity
	if act == nil || act.ID != "crm-01JDCALL-2" || !act.LoggedAt.Equal(t0) {
		t.Fatalf("activity on the attempt: %+v", act)
	}

	// A replayed or duplicated item: the stored Activity short-circuits.
	enqueue(t, e, e.n.Items(c, a, false))
	e.n.DeliverDue(ctx)
	if n := len(fake.calls()); n != 1 {
		t.Errorf("a replayed item logged again (%d LogCalls)", n)
	}
}

// An answer lost after the CRM logged the call (a timeout), then the retry:
// the plugin finds the call by its key; one activity is recorded.
func TestWritebackRetryAfterLostAnswer(t *testing.T) {
	fake := &logCRM{logErrs: []error{sdk.Transient("plugin call LogCall: deadline exceeded")}}
	fake.ids = map[string]string{"01JDCALL-2": "crm-1"} // the CRM logged it before the deadline
	e := logSetup(t, fake, nil, hubspotCaps)
	c, a := storedReported(t, e, store.CallCompleted)
	enqueue(t, e, e.n.Items(c, a, true))
	e.n.DeliverDue(context.Background())
	it := only(t, e)
	if it.Dead || it.Attempts != 1 || !strings.Contains(it.LastError, "deadline exceeded") {
		t.Fatalf("item %+v", it)
	}
	e.clk.Add(it.NextAt.Sub(e.clk.Now()))
	e.n.DeliverDue(context.Background())
	stored, _ := e.db.GetCall(context.Background(), c.ID)
	if act := stored.Attempts[1].Activity; act == nil || act.ID != "crm-1" {
		t.Fatalf("activity %+v", act)
	}
	// The final attempt also wrote the status properties, once.
	if len(fake.reqs) != 1 || fake.reqs[0].Fields[notify.FieldStatus].String != store.CallCompleted {
		t.Errorf("status write-back %+v", fake.reqs)
	}
}

func TestWritebackRulesAndFollowUps(t *testing.T) {
	src := `dialer "log" {
  type = "log"
}
agent "sales-intro" {
  writeback {
    title = "'Call with ' + variables.firstname + ': ' + outcome.status"
    body  = "outcome.summary + ' / ' + string(len(outcome.turns)) + ' turns'"
    dispositions = { interested = "guid-qualified" }
    follow_up "qualified" {
      when = "outcome.data.qualified == true"
      set  = { lifecyclestage = "'salesqualifiedlead'" }
      task {
        title = "'Book the demo for ' + variables.firstname"
        body  = "outcome.transcript"
        due   = "26h"
        owner = "41629779"
      }
    }
    follow_up "never" {
      when = "outcome.status == 'busy'"
      set  = { x = "'y'" }
    }
  }
}
`
	cfg, err := config.LoadBytes("t.hcl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	fake := &logCRM{}
	e := logSetup(t, fake, cfg.Agents["sales-intro"].WritebackRules, hubspotCaps)
	c, a := storedReported(t, e, store.CallCompleted)
	enqueue(t, e, e.n.Items(c, a, true))
	e.n.DeliverDue(context.Background())
	logs := fake.calls()
	if len(logs) != 1 {
		t.Fatalf("%d LogCalls", len(logs))
	}
	r := logs[0]
	if r.Call.Title != "Call with Ada: completed" || r.Call.Body != "Wants a demo on Tuesday. / 2 turns" || r.Call.Disposition != "guid-qualified" {
		t.Errorf("call %+v", r.Call)
	}
	wantDue := a.EndedAt.UTC().Add(26 * time.Hour)
	if len(r.Tasks) != 1 || r.Tasks[0].Title != "Book the demo for Ada" || !r.Tasks[0].Due.Equal(wantDue) ||
		r.Tasks[0].Owner != "41629779" || r.Tasks[0].Body != "agent: Hello Ada\nuser: Hi, book me a demo" {
		t.Errorf("tasks %+v (due want %s)", r.Tasks, wantDue)
	}
	if len(r.Properties) != 1 || r.Properties["lifecyclestage"].String != "salesqualifiedlead" {
		t.Errorf("properties %+v", r.Properties)
	}
	stored, _ := e.db.GetCall(context.Background(), c.ID)
	if act := stored.Attempts[1].Activity; act == nil || len(act.TaskIDs) != 1 {
		t.Errorf("activity %+v", act)
	}
}

func TestWritebackAttemptsFinal(t *testing.T) {
	fake := &logCRM{}
	e := logSetup(t, fake, &config.Writeback{Attempts: config.WritebackFinal}, hubspotCaps)
	c, a := ended(store.CallRetryScheduled)
	if items := e.n.Items(c, a, false); len(items) != 0 {
		t.Errorf("attempts = final logged a non-final attempt: %+v", items)
	}
	c, a = ended(store.CallFailed)
	items := e.n.Items(c, a, true)
	if len(items) != 1 {
		t.Fatalf("final attempt: %+v", items)
	}
	var body map[string]any
	_ = json.Unmarshal(items[0].Body, &body)
	if body["log"] == nil || body["final"] != true || body["attempt"] != float64(2) {
		t.Errorf("item body %s", items[0].Body)
	}
}

// A plugin without log_call keeps today's write-back: status properties
// once the call is over, nothing for the attempts before; a plugin with
// log_call but without writeback (LeadSquared) is never asked to
// UpdateRecord.
func TestWritebackCapabilities(t *testing.T) {
	ctx := context.Background()
	t.Run("writeback only", func(t *testing.T) {
		fake := &logCRM{}
		e := logSetup(t, fake, nil, []string{sdk.CapabilityWriteback})
		c, a := storedReported(t, e, store.CallRetryScheduled)
		enqueue(t, e, e.n.Items(c, a, false))
		c.Status = store.CallCompleted
		enqueue(t, e, e.n.Items(c, a, true))
		e.n.DeliverDue(ctx)
		if len(fake.calls()) != 0 || len(fake.reqs) != 1 {
			t.Errorf("LogCalls %d, UpdateRecords %d; want 0 and 1", len(fake.calls()), len(fake.reqs))
		}
	})
	t.Run("log_call only", func(t *testing.T) {
		fake := &logCRM{}
		e := logSetup(t, fake, nil, []string{sdk.CapabilityLogCall})
		c, a := storedReported(t, e, store.CallCompleted)
		enqueue(t, e, e.n.Items(c, a, true))
		e.n.DeliverDue(ctx)
		if len(fake.calls()) != 1 || len(fake.reqs) != 0 {
			t.Errorf("LogCalls %d, UpdateRecords %d; want 1 and 0", len(fake.calls()), len(fake.reqs))
		}
		if p, d, _ := e.db.OutboxDepth(context.Background()); p+d != 0 {
			t.Errorf("outbox %d pending %d dead", p, d)
		}
	})
	t.Run("permanent error is a dead letter", func(t *testing.T) {
		fake := &logCRM{logErrs: []error{sdk.Auth("hubspot: the token lacks scope(s) crm.objects.contacts.write")}}
		e := logSetup(t, fake, nil, hubspotCaps)
		c, a := storedReported(t, e, store.CallCompleted)
		enqueue(t, e, e.n.Items(c, a, true))
		e.n.DeliverDue(ctx)
		it := only(t, e)
		if !it.Dead || !strings.Contains(it.LastError, "crm.objects.contacts.write") || strings.Contains(it.LastError, "pat-xyz") {
			t.Errorf("item %+v", it)
		}
	})
}

func TestCheckWriteback(t *testing.T) {
	fake := &logCRM{logErrs: []error{sdk.Auth("lacks scope(s) crm.objects.contacts.write")}}
	e := logSetup(t, fake, nil, hubspotCaps)
	probs := e.n.CheckWriteback(context.Background(), []string{"hubspot", "gone"})
	if len(probs) != 1 || !strings.Contains(probs["hubspot"].Error(), "crm.objects.contacts.write") {
		t.Errorf("problems %v", probs)
	}
	if logs := fake.calls(); len(logs) != 1 || !logs[0].CheckOnly {
		t.Errorf("check calls %+v", logs)
	}
}

// A person erased between the outcome and the write-back: their
// conversation is not sent on to the CRM, and the item is done.
func TestWritebackSkipsAnErasedPerson(t *testing.T) {
	fake := &logCRM{}
	e := logSetup(t, fake, nil, hubspotCaps)
	c, a := storedReported(t, e, store.CallCompleted)
	enqueue(t, e, e.n.Items(c, a, true))
	ctx := context.Background()
	if _, err := e.db.Erase(ctx, store.EraseRequest{Numbers: []string{c.ToNumber}, Now: t0}); err != nil {
		t.Fatal(err)
	}
	e.n.DeliverDue(ctx)
	if n := len(fake.calls()); n != 0 {
		t.Errorf("LogCall called %d times for an erased person", n)
	}
	if p, d, _ := e.db.OutboxDepth(ctx); p+d != 0 {
		t.Fatalf("outbox after delivery: %d pending, %d dead", p, d)
	}
}
