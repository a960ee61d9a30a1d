package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/store"
)

// refreshSeconds is how often a page reloads itself while a call is
// dialing: outcomes arrive within seconds to minutes.
const refreshSeconds = 10

// startData is what a first-time user needs to see a first call: the
// webhook URL to paste into the CRM for each agent.
type startData struct {
	Webhooks []api.WebhookURL
	HubSpot  bool // an agent serves HubSpot: the test webhook action applies
}

type overviewData struct {
	api.Overview
	Chart chart
	// Statuses are the call statuses in lifecycle order, for the tables.
	Statuses []string
}

func (d *Dashboard) overviewPage(w http.ResponseWriter, r *http.Request, sess *session) {
	ov, err := d.opts.API.Overview(r.Context())
	if err != nil {
		d.render(w, r, sess, "overview", http.StatusInternalServerError, page{Title: "Overview",
			Error: "could not sum up the calls: " + err.Error(), Data: overviewData{Statuses: api.CallStatuses}})
		return
	}
	p := page{Title: "Overview", Data: overviewData{Overview: ov, Chart: newChart(ov.Days), Statuses: api.CallStatuses}}
	if ov.Queue.Dialing > 0 {
		p.Refresh = refreshSeconds
	}
	if ov.Week.Calls == 0 && ov.Queue.Scheduled+ov.Queue.RetryScheduled+ov.Queue.Dialing == 0 {
		p.Start = startFrom(ov.Webhooks)
	}
	d.render(w, r, sess, "overview", http.StatusOK, p)
}

func startFrom(hooks []api.WebhookURL) *startData {
	s := &startData{Webhooks: hooks}
	for _, h := range hooks {
		s.HubSpot = s.HubSpot || h.Type == "hubspot"
	}
	return s
}

// start is the empty state's data for the calls page, from the agents
// configured now.
func (d *Dashboard) start() *startData {
	var hooks []api.WebhookURL
	for _, ag := range d.opts.API.Agents() {
		for _, typ := range ag.Types {
			hooks = append(hooks, d.opts.API.WebhookURL(ag.ID, typ))
		}
	}
	return startFrom(hooks)
}

// dialingRefresh is the calls page's refresh interval: refreshSeconds
// while any call is dialing, else 0 (no refresh).
func (d *Dashboard) dialingRefresh(ctx context.Context) int {
	calls, _, err := d.opts.Calls.ListCalls(ctx, store.CallFilter{Status: store.CallDialing, Limit: 1})
	if err != nil || len(calls) == 0 {
		return 0
	}
	return refreshSeconds
}

// chart is the overview's bar chart: one stacked bar per day, drawn as
// SVG on the server.
type chart struct {
	Width, Height int
	Bars          []bar
	Ticks         []tick // horizontal grid lines with their counts
	Max           int
	Legend        []segmentKind
}

type bar struct {
	X, Width int
	Label    string // the day, e.g. "Mon 24"
	LabelX   int
	Title    string // every count of the day, for the tooltip
	Segments []segment
}

type segment struct {
	Y, Height int
	Class     string
}

type tick struct {
	Y     int
	Value int
}

// segmentKind is one colour of the chart: a group of call statuses.
type segmentKind struct {
	Class, Label string
	Statuses     []string
}

// chartKinds stack from the bottom up: what ended well, what ended
// otherwise, what is still to happen.
var chartKinds = []segmentKind{
	{"seg-ok", "completed", []string{store.CallCompleted}},
	{"seg-bad", "failed", []string{store.CallFailed}},
	{"seg-muted", "skipped, blocked, dropped, canceled", []string{store.CallSkipped, store.CallBlocked, store.CallDropped, store.CallCanceled}},
	{"seg-wait", "scheduled, retrying, dialing", []string{store.CallScheduled, store.CallRetryScheduled, store.CallDialing}},
}

// Chart geometry: plot area inside the SVG's margins.
const (
	chartWidth, chartHeight = 720, 220
	chartLeft, chartBottom  = 40, 28
	chartTop                = 12
)

func newChart(days []api.Period) chart {
	c := chart{Width: chartWidth, Height: chartHeight, Legend: chartKinds}
	for _, d := range days {
		c.Max = max(c.Max, d.Calls)
	}
	top := niceCeil(c.Max)
	plotH := chartHeight - chartBottom - chartTop
	for _, v := range []int{0, top / 2, top} {
		c.Ticks = append(c.Ticks, tick{Y: chartTop + plotH - v*plotH/top, Value: v})
	}
	if len(days) == 0 {
		return c
	}
	slot := (chartWidth - chartLeft) / len(days)
	for i, d := range days {
		b := bar{X: chartLeft + i*slot + slot/5, Width: slot * 3 / 5, Label: d.Start.Format("Mon 2"), LabelX: chartLeft + i*slot + slot/2}
		b.Title = fmt.Sprintf("%s: %d calls", d.Start.Format("Mon 2 Jan"), d.Calls)
		y := chartTop + plotH
		for _, k := range chartKinds {
			n := 0
			for _, s := range k.Statuses {
				n += d.ByStatus[s]
			}
			if n == 0 {
				continue
			}
			b.Title += fmt.Sprintf(", %d %s", n, k.Label)
			h := max(n*plotH/top, 1)
			y -= h
			b.Segments = append(b.Segments, segment{Y: y, Height: h, Class: k.Class})
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// niceCeil rounds n up to a round axis maximum (at least 2, so the
// middle grid line is a whole number).
func niceCeil(n int) int {
	if n <= 2 {
		return 2
	}
	step := 1
	for step*10 < n {
		step *= 10
	}
	for _, m := range []int{1, 2, 5, 10} {
		if v := step * m; v >= n && v%2 == 0 {
			return v
		}
	}
	return step * 10
}

// overviewFuncs format the overview's figures.
var overviewFuncs = template.FuncMap{
	"percent": func(r *float64) string {
		if r == nil {
			return "—"
		}
		return fmt.Sprintf("%.0f%%", *r*100)
	},
	"seconds": func(s *float64) string {
		if s == nil {
			return "—"
		}
		return (time.Duration(*s * float64(time.Second))).Round(time.Second).String()
	},
}
