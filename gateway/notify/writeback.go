package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/sdk"
)

// CRM write-back. Each ended attempt of an agent with writeback on becomes
// one outbox item, committed with the outcome it reports (so a crash
// between the two loses neither). The item carries everything the plugin
// needs, rendered when the attempt ended: the logged call's title, body,
// disposition, and the follow-ups the agent's rules chose. Delivery calls
// the plugin's LogCall (plugins with the log_call capability), then
// records the CRM's ids on the attempt (Attempt.Activity); the final
// attempt also sets the callgate_last_call_* properties through
// UpdateRecord, as before LogCall existed.
//
// Exactly once: a redelivered item finds Activity on the attempt and logs
// nothing; a try whose answer was lost (or a crash before Activity was
// stored) is found again by the plugin, which searches for the call's
// idempotency key before it creates anything.

// CallLogger logs calls in a CRM; sdk.CallLogger (a plugin client whose
// manifest declares log_call) satisfies it.
type CallLogger = sdk.CallLogger

// writebackItem is the body of a write-back outbox item. Its first fields
// are the status write-back items always had (an item from an older
// version has only those, and is delivered as before).
type writebackItem struct {
	writeback
	Attempt int      `json:"attempt,omitempty"`
	Final   bool     `json:"final,omitempty"`
	Log     *callLog `json:"log,omitempty"` // set for an ended attempt
}

// callLog is what LogCall is asked to log.
type callLog struct {
	Key                 string            `json:"key"` // "<call id>-<attempt n>"
	Outcome             string            `json:"outcome"`
	Disposition         string            `json:"disposition,omitempty"`
	PlatformDisposition string            `json:"platform_disposition,omitempty"`
	DurationMS          int64             `json:"duration_ms,omitempty"`
	ToNumber            string            `json:"to_number,omitempty"`
	FromNumber          string            `json:"from_number,omitempty"`
	RecordingURL        string            `json:"recording_url,omitempty"`
	Title               string            `json:"title"`
	Body                string            `json:"body,omitempty"`
	StartedAt           time.Time         `json:"started_at"`
	ProviderCallID      string            `json:"provider_call_id,omitempty"`
	Tasks               []taskItem        `json:"tasks,omitempty"`
	Properties          map[string]string `json:"properties,omitempty"`
}

type taskItem struct {
	Title string    `json:"title"`
	Body  string    `json:"body,omitempty"`
	Due   time.Time `json:"due"`
	Owner string    `json:"owner,omitempty"`
}

// writebackItems returns the write-back item for a change of call, if the
// agent writes back: one per ended attempt (with attempts = "final", only
// the last), and one for a call that ended without an attempt (skipped,
// blocked, …), which sets the status properties only.
func (n *Notifier) writebackItems(call store.Call, attempt *store.Attempt, final bool, now time.Time) []store.OutboxItem {
	if n.cfg.Writeback == nil || !n.cfg.Writeback(call.AgentID) || call.Source.Integration == "" || call.Source.ObjectID == "" {
		return nil
	}
	rules := n.rules(call.AgentID)
	item := writebackItem{writeback: writeback{ObjectType: call.Source.ObjectType, ObjectID: call.Source.ObjectID, CallID: call.ID,
		Status: call.Status, Reason: call.Reason, At: lastActivity(call, now)}, Final: final}
	if item.ObjectType == "" {
		item.ObjectType = "contact"
	}
	switch {
	case attempt != nil && attempt.EndedAt != nil:
		if !rules.Logs(final) {
			return nil
		}
		item.Attempt = attempt.N
		item.Log = n.buildLog(call, *attempt, final, rules, now)
	case !final:
		return nil
	}
	body, err := json.Marshal(item)
	if err != nil {
		n.log.Error("encode a write-back; not sent", "call", call.ID, "error", err)
		return nil
	}
	return []store.OutboxItem{{ID: n.db.NewID(now), Kind: store.OutboxWriteback, Body: body,
		Integration: call.Source.Integration, CallID: call.ID, AgentID: call.AgentID, Event: "writeback",
		NextAt: now, CreatedAt: now}}
}

// rules is the agent's writeback block, or nil (defaults).
func (n *Notifier) rules(agentID string) *config.Writeback {
	if n.cfg.WritebackRules == nil {
		return nil
	}
	return n.cfg.WritebackRules(agentID)
}

// buildLog renders what LogCall logs for attempt a. A rule that fails at
// run time is logged and left out (a title or body falls back to the
// default), so one bad expression costs a follow-up, not the call's log.
func (n *Notifier) buildLog(c store.Call, a store.Attempt, final bool, rules *config.Writeback, now time.Time) *callLog {
	l, _ := renderLog(c, a, final, rules, now, func(rule string, err error) {
		n.log.Warn("a writeback rule failed; left out (a title or body takes the default)", "agent", c.AgentID, "call", c.ID, "rule", rule, "error", err)
	})
	return l
}

// renderLog is buildLog's work; it also returns the follow-ups whose when
// held, and reports each failing rule to fail.
func renderLog(c store.Call, a store.Attempt, final bool, rules *config.Writeback, now time.Time, fail func(rule string, err error)) (*callLog, []string) {
	env := writebackEnv(c, a, final, now)
	ended := now
	if a.EndedAt != nil {
		ended = a.EndedAt.UTC()
	}
	l := &callLog{
		Key: fmt.Sprintf("%s-%d", c.ID, a.N), Outcome: a.Outcome,
		Disposition: rules.Disposition(a.Outcome, a.Disposition), PlatformDisposition: a.Disposition,
		DurationMS: int64(a.DurationS * 1000), ToNumber: c.ToNumber, FromNumber: a.FromNumber,
		RecordingURL: a.RecordingURL, StartedAt: a.StartedAt.UTC(), ProviderCallID: a.ProviderCallID,
		Title: defaultTitle(c, a), Body: defaultBody(a),
	}
	if a.StartedAt.IsZero() {
		l.StartedAt = ended
	}
	if rules == nil {
		return l, nil
	}
	render := func(rule string, t *config.Template, into *string) bool {
		if t == nil {
			return true
		}
		s, err := t.Render(env)
		if err != nil {
			fail(rule, err)
			return false
		}
		*into = s
		return true
	}
	render("title", rules.Title, &l.Title)
	render("body", rules.Body, &l.Body)
	var fired []string
	for _, f := range rules.FollowUps {
		ok, err := f.When.Holds(env)
		if err != nil {
			fail("follow_up "+f.Name+" when", err)
			continue
		}
		if !ok {
			continue
		}
		fired = append(fired, f.Name)
		for _, name := range sortedNames(f.Set) {
			var v string
			if render("follow_up "+f.Name+" set."+name, f.Set[name], &v) {
				if l.Properties == nil {
					l.Properties = map[string]string{}
				}
				l.Properties[name] = v
			}
		}
		if f.Task != nil {
			// The due time counts from the attempt's end, so every
			// rendering of this item (and a retry's search) asks for one.
			t := taskItem{Due: ended.Add(f.Task.Due).Truncate(time.Second), Owner: f.Task.Owner}
			okT := render("follow_up "+f.Name+" task title", f.Task.Title, &t.Title)
			render("follow_up "+f.Name+" task body", f.Task.Body, &t.Body)
			if okT && strings.TrimSpace(t.Title) != "" {
				l.Tasks = append(l.Tasks, t)
			}
		}
	}
	return l, fired
}

func sortedNames(m map[string]*config.Template) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// WritebackPreview is what write-back would log for one attempt: the
// dry run of `callgate rules test --outcome`.
type WritebackPreview struct {
	Logged      bool              `json:"logged"` // false: attempts = "final" and the call goes on
	Key         string            `json:"key"`
	Title       string            `json:"title"`
	Body        string            `json:"body"`
	Disposition string            `json:"disposition,omitempty"` // "" : the plugin maps the outcome
	FollowUps   []string          `json:"follow_ups"`            // whose when held
	Properties  map[string]string `json:"properties,omitempty"`
	Tasks       []PreviewTask     `json:"tasks,omitempty"`
	Problems    []string          `json:"problems,omitempty"` // rules that failed at run time
}

// PreviewTask is a follow-up task of a preview.
type PreviewTask struct {
	Title string    `json:"title"`
	Body  string    `json:"body,omitempty"`
	Due   time.Time `json:"due"`
	Owner string    `json:"owner,omitempty"`
}

// PreviewWriteback renders an agent's writeback rules for attempt a of
// call c as delivery would, without a store or a CRM.
func PreviewWriteback(rules *config.Writeback, c store.Call, a store.Attempt, final bool, now time.Time) WritebackPreview {
	var problems []string
	l, fired := renderLog(c, a, final, rules, now, func(rule string, err error) {
		problems = append(problems, rule+": "+err.Error())
	})
	p := WritebackPreview{Logged: rules.Logs(final), Key: l.Key, Title: l.Title, Body: l.Body, Disposition: l.Disposition,
		FollowUps: fired, Properties: l.Properties, Problems: problems}
	if p.FollowUps == nil {
		p.FollowUps = []string{}
	}
	for _, t := range l.Tasks {
		p.Tasks = append(p.Tasks, PreviewTask(t))
	}
	return p
}

// Limits of the default body: HubSpot's notes show a few screens, and the
// whole transcript stays in callgate (the dashboard, the API).
const (
	excerptTurns = 12
	excerptBytes = 2000
)

func defaultTitle(c store.Call, a store.Attempt) string {
	return fmt.Sprintf("AI call (%s): %s", c.AgentID, strings.ReplaceAll(orDefault(a.Outcome, "ended"), "_", " "))
}

// defaultBody is the summary, then the start of the transcript, then the
// reason the platform gave for a call that did not connect.
func defaultBody(a store.Attempt) string {
	var parts []string
	if s := strings.TrimSpace(a.Summary); s != "" {
		parts = append(parts, s)
	}
	if ex := transcriptExcerpt(a.Transcript); ex != "" {
		parts = append(parts, "Transcript:\n"+ex)
	}
	if a.Reason != "" && a.Outcome != store.OutcomeCompleted {
		parts = append(parts, "Reason: "+a.Reason)
	}
	if len(parts) == 0 {
		return "Outcome: " + orDefault(a.Outcome, "ended")
	}
	return strings.Join(parts, "\n\n")
}

func transcriptExcerpt(turns []store.Turn) string {
	var b strings.Builder
	for i, t := range turns {
		if i == excerptTurns || b.Len() >= excerptBytes {
			b.WriteString("…")
			break
		}
		line := strings.TrimSpace(t.Text)
		if t.Speaker != "" {
			line = t.Speaker + ": " + line
		}
		b.WriteString(line + "\n")
	}
	s := strings.TrimRight(b.String(), "\n")
	if len(s) > excerptBytes+len("…") {
		cut := excerptBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// writebackEnv is what writeback rules see for attempt a.
func writebackEnv(c store.Call, a store.Attempt, final bool, now time.Time) config.WritebackEnv {
	vars := make(map[string]any, len(c.Variables))
	for k, v := range c.Variables {
		vars[k] = v
	}
	return config.WritebackEnv{
		Call: config.WritebackCall{ID: c.ID, AgentID: c.AgentID, ToNumber: c.ToNumber, Status: c.Status, Reason: c.Reason,
			Attempts: len(c.Attempts), Final: final},
		Outcome: OutcomeVars(a), Variables: vars, Now: now,
	}
}

// writebackRequest is the LogCall request an item asks for.
func (l *callLog) request(it writebackItem, creds sdk.Credentials) sdk.LogCallRequest {
	req := sdk.LogCallRequest{
		Credentials: creds, ObjectType: it.ObjectType, ObjectID: it.ObjectID, Key: l.Key,
		Call: sdk.LoggedCall{
			Direction: sdk.DirectionOutbound, Outcome: l.Outcome, Disposition: l.Disposition,
			PlatformDisposition: l.PlatformDisposition, Duration: time.Duration(l.DurationMS) * time.Millisecond,
			ToNumber: l.ToNumber, FromNumber: l.FromNumber, RecordingURL: l.RecordingURL,
			Title: l.Title, Body: l.Body, StartedAt: l.StartedAt, ProviderCallID: l.ProviderCallID,
		},
	}
	for _, t := range l.Tasks {
		req.Tasks = append(req.Tasks, sdk.FollowUpTask{Title: t.Title, Body: t.Body, Due: t.Due, Owner: t.Owner})
	}
	for k, v := range l.Properties {
		if req.Properties == nil {
			req.Properties = map[string]sdk.Value{}
		}
		req.Properties[k] = sdk.StringValue(v)
	}
	return req
}

// writeback delivers a write-back item: the call logged on the record
// (unless the attempt already has its Activity), then, for the call's
// end, its status properties.
func (n *Notifier) writeback(ctx context.Context, it store.OutboxItem) (time.Duration, error) {
	var wb writebackItem
	if err := json.Unmarshal(it.Body, &wb); err != nil {
		return 0, errFinal{fmt.Errorf("write-back item is not readable: %w", err)}
	}
	if n.cfg.CRM == nil {
		return 0, errFinal{errors.New("write-back is not wired to any CRM")}
	}
	crm, creds, ok := n.cfg.CRM(it.Integration)
	if !ok {
		// The integration may come back with a config reload: retry.
		return 0, fmt.Errorf("integration %q is not configured or its plugin is not running", it.Integration)
	}
	logger, updates := n.capable(crm, it.Integration)
	if logger != nil && wb.Log != nil {
		if err := n.logCall(ctx, logger, creds, it, wb); err != nil {
			return classify(fmt.Errorf("%s %s %s: log call: %w", it.Integration, wb.ObjectType, wb.ObjectID, err))
		}
	}
	if (wb.Log != nil && !wb.Final) || !updates {
		return 0, nil // status properties: when the call ends, on plugins that write them
	}
	err := crm.UpdateRecord(ctx, sdk.UpdateRequest{Credentials: creds, ObjectType: wb.ObjectType, ObjectID: wb.ObjectID,
		Fields: map[string]sdk.Value{
			FieldStatus: sdk.StringValue(wb.Status),
			FieldAt:     sdk.TimeValue(wb.At),
			FieldReason: sdk.StringValue(wb.Reason),
			FieldCallID: sdk.StringValue(wb.CallID),
		}})
	if err == nil {
		return 0, nil
	}
	return classify(fmt.Errorf("%s %s %s: %w", it.Integration, wb.ObjectType, wb.ObjectID, err))
}

// logCall logs the attempt once and records the CRM's ids on it. The
// stored Activity short-circuits a redelivery; the plugin's find before
// create covers a try whose answer (or whose Activity) was lost.
func (n *Notifier) logCall(ctx context.Context, logger CallLogger, creds sdk.Credentials, it store.OutboxItem, wb writebackItem) error {
	c, err := n.db.GetCall(ctx, it.CallID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return sdk.NotFound("call %s is no longer stored", it.CallID)
	case err != nil:
		return fmt.Errorf("read call %s: %w", it.CallID, err)
	}
	if c.ErasedAt != nil {
		// The person's data was erased after the outcome: their
		// conversation is not sent on to the CRM.
		n.log.Info("call log not written: the person's data was erased", "call", c.ID, "attempt", wb.Attempt)
		return nil
	}
	if a := attemptOf(&c, wb.Attempt); a != nil && a.Activity != nil {
		n.log.Debug("call already logged in the CRM", "call", c.ID, "attempt", wb.Attempt, "activity", a.Activity.ID)
		return nil
	}
	res, err := logger.LogCall(ctx, wb.Log.request(wb, creds))
	if err != nil {
		return err
	}
	act := &store.Activity{ID: res.ActivityID, TaskIDs: res.TaskIDs, Updated: res.Updated, LoggedAt: n.now().UTC()}
	_, err = n.db.MutateCall(ctx, it.CallID, func(c *store.Call) ([]store.OutboxItem, error) {
		a := attemptOf(c, wb.Attempt)
		if a == nil || a.Activity != nil {
			return nil, store.ErrNoChange
		}
		a.Activity = act
		return nil, nil
	})
	if err != nil && !errors.Is(err, store.ErrNoChange) {
		// Logged but not remembered: the next try finds the call in the
		// CRM by its key, so nothing is logged twice.
		return fmt.Errorf("record the CRM activity %s on call %s: %w", act.ID, it.CallID, err)
	}
	n.log.Info("call logged in the CRM", "call", it.CallID, "attempt", wb.Attempt, "integration", it.Integration,
		"activity", act.ID, "tasks", len(act.TaskIDs))
	return nil
}

// capable says what the integration's plugin does: log calls (its client
// as a CallLogger, when the manifest declares log_call) and write status
// properties (capability writeback). Without Capabilities wired, the
// plugin is taken to write properties only, as before LogCall.
func (n *Notifier) capable(crm CRMUpdater, integration string) (CallLogger, bool) {
	if n.cfg.Capabilities == nil {
		return nil, true
	}
	caps := n.cfg.Capabilities(integration)
	var logger CallLogger
	if l, ok := crm.(CallLogger); ok && slices.Contains(caps, sdk.CapabilityLogCall) {
		logger = l
	}
	return logger, slices.Contains(caps, sdk.CapabilityWriteback)
}

func attemptOf(c *store.Call, n int) *store.Attempt {
	for i := range c.Attempts {
		if c.Attempts[i].N == n {
			return &c.Attempts[i]
		}
	}
	return nil
}

// classify decides what a failed write-back does: auth, bad-request and
// not-found errors are final (an operator fixes and retries the dead
// letter); rate limits wait as asked; the rest retry with backoff.
func classify(err error) (time.Duration, error) {
	var se *sdk.Error
	switch sdk.ClassOf(err) {
	case sdk.ClassAuth:
		return 0, errFinal{fmt.Errorf("%w (fix the integration's credentials, then retry the dead letter)", err)}
	case sdk.ClassBadRequest, sdk.ClassNotFound, sdk.ClassPermanent, sdk.ClassInvalidSignature:
		return 0, errFinal{err}
	case sdk.ClassRateLimited:
		if errors.As(err, &se) {
			return se.RetryAfter, err
		}
	}
	return 0, err
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// CheckWriteback asks the plugin of each integration an agent writes back
// to whether its credentials allow logging calls (HubSpot: the token's
// scopes), without writing anything. It returns one problem per
// integration, keyed by name; the gateway logs them at start and the
// credential check shows them.
func (n *Notifier) CheckWriteback(ctx context.Context, integrations []string) map[string]error {
	out := map[string]error{}
	if n.cfg.CRM == nil {
		return out
	}
	for _, name := range integrations {
		crm, creds, ok := n.cfg.CRM(name)
		if !ok {
			continue
		}
		logger, _ := n.capable(crm, name)
		if logger == nil {
			continue
		}
		if _, err := logger.LogCall(ctx, sdk.LogCallRequest{Credentials: creds, CheckOnly: true}); err != nil {
			out[name] = err
		}
	}
	return out
}
