package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// middayZone picks, among zones a few hours apart, the one whose local
// time is nearest noon now, so a window an hour or more from now still
// falls on today's local date whenever the test runs.
func middayZone(t *testing.T, now time.Time) *time.Location {
	t.Helper()
	var best *time.Location
	bestDist := 24 * time.Hour
	for _, name := range []string{"Pacific/Honolulu", "America/Los_Angeles", "America/Chicago", "America/New_York", "America/Sao_Paulo",
		"Atlantic/Azores", "Europe/London", "Europe/Berlin", "Europe/Moscow", "Asia/Dubai", "Asia/Kolkata", "Asia/Bangkok",
		"Asia/Tokyo", "Australia/Brisbane", "Pacific/Auckland"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		l := now.In(loc)
		sinceMidnight := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute
		if d := (sinceMidnight - 12*time.Hour).Abs(); d < bestDist {
			best, bestDist = loc, d
		}
	}
	if bestDist > 2*time.Hour {
		t.Fatalf("no zone has local time within 2h of noon at %s", now)
	}
	return best
}

// sendHubSpotQuery is sendHubSpot with extra query parameters (the
// hosted service's scheduling overrides), signed for the full URL.
func sendHubSpotQuery(g *gateway, query string, evs ...hubspottest.Event) (int, []byte) {
	g.t.Helper()
	path := "/call/crm-webhook?type=hubspot&agent_id=sales&x_api_key=" + webhookAPIKey + "&" + query
	body, _ := json.Marshal(evs)
	h := hubspottest.Sign(hubspotSecret, "v3", http.MethodPost, g.URL+path, body, time.Now())
	return g.Do(http.MethodPost, path, bytes.NewReader(body), h)
}

// TestWindowBeforeOpeningWaits drives the hosted service's example URL
// (min_trigger_time, max_trigger_time, num_of_retries=3,
// gap_between_retries=2,4,6) through the binary with a HubSpot webhook,
// the window placed around the current time in a zone where it is about
// noon: a lead that arrives before the day's opening is scheduled for
// today's opening even without carry_over; after the day's close it is
// dropped with a reason naming the window, or, with carry_over=true,
// scheduled for tomorrow's opening.
func TestWindowBeforeOpeningWaits(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	platform := dialertest.New(t, dialertest.HTTP, "")
	g := startGateway(t, webhookConfig(hs.URL, platform.URL))

	now := time.Now()
	loc := middayZone(t, now)
	clock := func(d time.Duration) string { return now.Add(d).In(loc).Format("15:04") }
	on := func(day time.Time, hhmm string) time.Time {
		h, _ := strconv.Atoi(hhmm[:2])
		m, _ := strconv.Atoi(hhmm[3:])
		y, mo, d := day.In(loc).Date()
		return time.Date(y, mo, d, h, m, 0, 0, loc)
	}
	today, tomorrow := now.In(loc), now.In(loc).AddDate(0, 0, 1)
	later := [2]string{clock(time.Hour), clock(3 * time.Hour)}     // opens later today
	earlier := [2]string{clock(-3 * time.Hour), clock(-time.Hour)} // closed for today
	cases := []struct {
		id     int64
		phone  string
		window [2]string
		carry  string // "" = absent, as in the example URL
		status string
		at     time.Time
		reason []string
	}{
		{701, "+91 98765 47001", later, "", store.CallScheduled, on(today, later[0]),
			[]string{"waiting for the call window " + later[0] + "–" + later[1] + " " + loc.String()}},
		{702, "+91 98765 47002", later, "false", store.CallScheduled, on(today, later[0]), []string{"waiting for the call window"}},
		{703, "+91 98765 47003", earlier, "false", store.CallDropped, time.Time{},
			[]string{"closed for today at " + earlier[1] + " " + loc.String(), "call window " + earlier[0] + "–" + earlier[1] + " " + loc.String(), "carry_over is false"}},
		{704, "+91 98765 47004", earlier, "true", store.CallScheduled, on(tomorrow, earlier[0]), []string{"carried over to"}},
	}
	for _, c := range cases {
		hs.AddContact(strconv.FormatInt(c.id, 10), map[string]any{"firstname": "Ada", "mobilephone": c.phone})
		q := url.Values{"min_trigger_time": {c.window[0]}, "max_trigger_time": {c.window[1]}, "num_of_retries": {"3"},
			"gap_between_retries": {"2,4,6"}, "timezone": {loc.String()}}
		if c.carry != "" {
			q.Set("carry_over", c.carry)
		}
		if status, body := sendHubSpotQuery(g, q.Encode(), creation(c.id, now.Add(-time.Second), 0)); status != http.StatusOK {
			t.Fatalf("webhook for contact %d = %d %s", c.id, status, body)
		}
	}
	var list struct {
		Calls []store.Call `json:"calls"`
	}
	byContact := map[string]store.Call{}
	waitFor(t, 20*time.Second, "four calls", func() bool {
		adminJSON(t, g, "/api/v1/calls?agent_id=sales", &list)
		for _, c := range list.Calls {
			byContact[c.Source.ObjectID] = c
		}
		return len(byContact) == len(cases)
	})
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s-%s carry_over=%q", tc.window[0], tc.window[1], tc.carry), func(t *testing.T) {
			c := byContact[strconv.FormatInt(tc.id, 10)]
			if c.Status != tc.status {
				t.Fatalf("call %s: %s (%q), want %s", c.ID, c.Status, c.Reason, tc.status)
			}
			switch {
			case tc.at.IsZero() && c.NextAttemptAt != nil:
				t.Fatalf("next_attempt_at %v, want none", c.NextAttemptAt)
			case !tc.at.IsZero() && (c.NextAttemptAt == nil || !c.NextAttemptAt.Equal(tc.at)):
				t.Fatalf("next_attempt_at %v, want %s (%s)", c.NextAttemptAt, tc.at.UTC().Format(time.RFC3339), tc.at)
			}
			for _, part := range tc.reason {
				if !strings.Contains(c.Reason, part) {
					t.Fatalf("reason %q lacks %q", c.Reason, part)
				}
			}
			if c.Policy.Timezone != loc.String() || c.Policy.Window == nil || c.Policy.Window.Start != tc.window[0] ||
				c.Policy.Retry.Max != 3 || len(c.Policy.Retry.Gaps) != 3 {
				t.Fatalf("policy = %+v (window %+v)", c.Policy, c.Policy.Window)
			}
		})
	}
	if n := len(platform.Dials()); n != 0 {
		t.Fatalf("%d dials, want none: every window is shut now", n)
	}
}
