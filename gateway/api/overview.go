package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/callgate/callgate/gateway/refused"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/store"
)

// Stats reads what the overview sums up (store.Store implements it).
type Stats interface {
	// CallStats sums up the calls created between consecutive bounds.
	CallStats(ctx context.Context, bounds []time.Time) ([]store.PeriodStats, error)
	CountCalls(ctx context.Context, f store.CallFilter) (int, error)
	ListCalls(ctx context.Context, f store.CallFilter) (calls []store.Call, nextCursor string, err error)
	OutboxDepth(ctx context.Context) (pending, dead int, err error)
}

// PendingEvents counts the events waiting for the pipeline
// (store.Store implements it).
type PendingEvents interface {
	PendingEvents(ctx context.Context) (int, error)
}

// OverviewDays is how many days the overview sums up, today included.
const OverviewDays = 7

// Overview is the body of GET /api/v1/overview: the dashboard's front page.
type Overview struct {
	GeneratedAt time.Time `json:"generated_at"`
	// Timezone is server.default_timezone: the days start at its midnight.
	Timezone     string            `json:"timezone"`
	Today        Period            `json:"today"`
	Week         Period            `json:"last_7_days"`
	Days         []Period          `json:"days"` // the last 7 days, oldest first; today is the last
	Queue        Queue             `json:"queue"`
	Plugins      []PluginStatus    `json:"plugins"`
	Integrations []Integration     `json:"integrations"`
	Dialers      []DialerHealth    `json:"dialers"`
	Refusals     []refused.Refusal `json:"refusals"`
	// Webhooks are the URLs to paste into the CRM, one per agent and type.
	Webhooks []WebhookURL `json:"webhooks"`
}

// Period sums up the calls created in [Start, End).
type Period struct {
	Start    time.Time      `json:"start"`
	End      time.Time      `json:"end"`
	Calls    int            `json:"calls"`
	ByStatus map[string]int `json:"by_status"`
	// Ended counts the calls with at least one ended attempt, Completed
	// those of them that completed.
	Ended     int `json:"ended"`
	Completed int `json:"completed"`
	// ConnectRate is Completed/Ended (absent while no attempt has ended).
	ConnectRate *float64 `json:"connect_rate,omitempty"`
	// AvgDurationS is the mean duration_s of the ended attempts that
	// report one (absent while none does).
	AvgDurationS *float64 `json:"avg_duration_s,omitempty"`
	timed        int
	talkS        float64
}

// Queue is the work waiting now, across every day.
type Queue struct {
	PendingEvents  int `json:"pending_events"`
	Scheduled      int `json:"scheduled"`
	RetryScheduled int `json:"retry_scheduled"`
	Dialing        int `json:"dialing"`
	OutboxPending  int `json:"outbox_pending"`
	OutboxDead     int `json:"outbox_dead"`
}

// DialerHealth is a configured dialer and the calls it is placing now.
type DialerHealth struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Concurrency int      `json:"concurrency"`
	Dialing     int      `json:"dialing"`
	Agents      []string `json:"agents"` // the agents that dial through it
}

// WebhookURL is the URL a CRM posts an agent's webhooks to; YOUR_KEY
// stands for one of server.api_keys.
type WebhookURL struct {
	Agent string `json:"agent"`
	Type  string `json:"type"`
	URL   string `json:"url"`
}

// ErrNoStats is Overview's error when the API was built without Stats.
var ErrNoStats = errors.New("the overview is not wired in this gateway (no call statistics)")

// overviewCache keeps the last call statistics for a few seconds: an
// auto-refreshing page and several operators then cost one scan.
type overviewCache struct {
	mu     sync.Mutex
	at     time.Time
	start  time.Time
	result []store.PeriodStats
}

// Overview sums up the last OverviewDays days in server.default_timezone,
// the queues, the plugins', integrations' and dialers' health and the
// latest refusals. The call statistics are reused for
// Options.OverviewTTL.
func (a *API) Overview(ctx context.Context) (Overview, error) {
	if a.opts.Stats == nil {
		return Overview{}, ErrNoStats
	}
	cfg := a.opts.Config()
	loc, err := time.LoadLocation(cfg.Server.DefaultTimezone)
	if err != nil || cfg.Server.DefaultTimezone == "" {
		loc = time.UTC
	}
	now := a.opts.Now()
	local := now.In(loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	bounds := make([]time.Time, 0, OverviewDays+1)
	for d := OverviewDays - 1; d >= -1; d-- {
		bounds = append(bounds, today.AddDate(0, 0, -d))
	}
	stats, err := a.callStats(ctx, bounds, now)
	if err != nil {
		return Overview{}, err
	}
	out := Overview{GeneratedAt: now.UTC(), Timezone: loc.String(), Week: Period{Start: bounds[0], End: bounds[len(bounds)-1], ByStatus: map[string]int{}}}
	for _, ps := range stats {
		p := Period{Start: ps.Start, End: ps.End, Calls: ps.Calls, ByStatus: ps.ByStatus, Ended: ps.Ended,
			Completed: ps.Completed, timed: ps.Timed, talkS: ps.TalkS}
		p.rates()
		out.Days = append(out.Days, p)
		w := &out.Week
		w.Calls += p.Calls
		w.Ended += p.Ended
		w.Completed += p.Completed
		w.timed += p.timed
		w.talkS += p.talkS
		for s, n := range p.ByStatus {
			w.ByStatus[s] += n
		}
	}
	out.Week.rates()
	out.Today = out.Days[len(out.Days)-1]
	if out.Queue, err = a.queue(ctx); err != nil {
		return Overview{}, err
	}
	// At most the dialers' concurrency is dialing; 1000 bounds a read of
	// calls stuck in dialing after a crash.
	dialing, _, err := a.opts.Stats.ListCalls(ctx, store.CallFilter{Status: store.CallDialing, Limit: 1000})
	if err != nil {
		return Overview{}, err
	}
	out.Dialers = dialerHealth(a, dialing)
	pl := a.PluginList(ctx)
	out.Plugins, out.Integrations = pl.Plugins, pl.Integrations
	out.Refusals = a.RecentRefusals(10).Refusals
	out.Webhooks = a.webhookURLs()
	return out, nil
}

func (p *Period) rates() {
	if p.Ended > 0 {
		r := float64(p.Completed) / float64(p.Ended)
		p.ConnectRate = &r
	}
	if p.timed > 0 {
		d := p.talkS / float64(p.timed)
		p.AvgDurationS = &d
	}
}

func (a *API) callStats(ctx context.Context, bounds []time.Time, now time.Time) ([]store.PeriodStats, error) {
	c := &a.overview
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.result != nil && c.start.Equal(bounds[0]) && now.Sub(c.at) < a.opts.OverviewTTL && !now.Before(c.at) {
		return c.result, nil
	}
	res, err := a.opts.Stats.CallStats(ctx, bounds)
	if err != nil {
		return nil, err
	}
	c.at, c.start, c.result = now, bounds[0], res
	return res, nil
}

func (a *API) queue(ctx context.Context) (Queue, error) {
	var q Queue
	if a.opts.Pending != nil {
		n, err := a.opts.Pending.PendingEvents(ctx)
		if err != nil {
			return q, err
		}
		q.PendingEvents = n
	}
	for _, s := range []struct {
		status string
		n      *int
	}{{store.CallScheduled, &q.Scheduled}, {store.CallRetryScheduled, &q.RetryScheduled}, {store.CallDialing, &q.Dialing}} {
		n, err := a.opts.Stats.CountCalls(ctx, store.CallFilter{Status: s.status})
		if err != nil {
			return q, err
		}
		*s.n = n
	}
	var err error
	q.OutboxPending, q.OutboxDead, err = a.opts.Stats.OutboxDepth(ctx)
	return q, err
}

func dialerHealth(a *API, dialing []store.Call) []DialerHealth {
	cfg := a.opts.Config()
	busy := map[string]int{}
	for _, c := range dialing {
		busy[c.Dialer]++
	}
	out := []DialerHealth{}
	for name, d := range cfg.Dialers {
		h := DialerHealth{Name: name, Type: d.Type, Concurrency: d.Concurrency, Dialing: busy[name], Agents: []string{}}
		for _, ag := range cfg.Agents {
			if ag.Dialer == name {
				h.Agents = append(h.Agents, ag.Name)
			}
		}
		sort.Strings(h.Agents)
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// webhookURLs lists, for every agent and CRM type it serves, the URL to
// paste into the CRM: public_url (or http://listen) with the agent, the
// type and a placeholder for the API key.
func (a *API) webhookURLs() []WebhookURL {
	out := []WebhookURL{}
	for _, ag := range a.Agents() {
		for _, typ := range ag.Types {
			out = append(out, a.WebhookURL(ag.ID, typ))
		}
	}
	return out
}

func (a *API) showOverview(w http.ResponseWriter, r *http.Request) {
	ov, err := a.Overview(r.Context())
	if err != nil {
		reply.Errorf(w, http.StatusInternalServerError, "overview: %v", err)
		return
	}
	reply.JSON(w, http.StatusOK, ov)
}

// WebhookURL is the URL a CRM of type typ posts agent's webhooks to.
func (a *API) WebhookURL(agent, typ string) WebhookURL {
	q := url.Values{"agent_id": {agent}, "type": {typ}}
	return WebhookURL{Agent: agent, Type: typ,
		URL: a.opts.Config().Server.BaseURL() + "/call/crm-webhook?" + q.Encode() + "&x_api_key=YOUR_KEY"}
}
