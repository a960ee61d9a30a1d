package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/store"
)

// funcs are the helpers templates use.
var funcs = template.FuncMap{
	"when":     formatTime,
	"whenPtr":  formatTimePtr,
	"pretty":   prettyJSON,
	"join":     strings.Join,
	"has":      slices.Contains[[]string],
	"sorted":   sortedKeys,
	"final":    store.Final,
	"duration": durationText,
	"badge":    badgeClass,
	"whenIn":   formatTimeIn,
	"hasReport": func(a store.Attempt) bool {
		return a.RecordingURL != "" || len(a.Transcript) > 0 || a.Summary != "" || a.Disposition != "" || a.FromNumber != "" || len(a.Data) > 0 || a.Activity != nil
	},
	"recording": recordingURL,
	"plain":     plainValue,
	"seconds": func(s float64) string {
		return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
	},
	"whenInPtr": func(t *time.Time, zone string) template.HTML {
		if t == nil {
			return "—"
		}
		return formatTimeIn(*t, zone)
	},
}

// formatTimeIn shows t in zone (an IANA name: the agent's, from the call's
// policy), with the UTC time on hover and in the datetime attribute. An
// empty or unknown zone shows UTC.
func formatTimeIn(t time.Time, zone string) template.HTML {
	if t.IsZero() {
		return "—"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		loc = time.UTC
	}
	local := t.In(loc).Format("2006-01-02 15:04:05 MST")
	if loc == time.UTC {
		local = formatTime(t)
	}
	return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s">%s</time>`,
		template.HTMLEscapeString(t.UTC().Format(time.RFC3339)), template.HTMLEscapeString(formatTime(t)), template.HTMLEscapeString(local)))
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return formatTime(*t)
}

func prettyJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// prettyRaw indents stored JSON as it is (an erased record stays the
// "[erased]" marker); text that is not JSON is shown unchanged.
func prettyRaw(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

func sortedKeys(m any) []string {
	var keys []string
	switch m := m.(type) {
	case map[string]string:
		for k := range m {
			keys = append(keys, k)
		}
	case map[string]any:
		for k := range m {
			keys = append(keys, k)
		}
	case map[string]int:
		for k := range m {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// badgeClass colours a call, attempt or event status.
func badgeClass(status string) string {
	switch status {
	case store.CallCompleted, store.EventCalled, "running":
		return "badge ok"
	case store.CallFailed, store.CallBlocked:
		return "badge bad"
	case store.CallSkipped, store.CallDropped, store.CallCanceled, store.EventIgnored, store.OutcomeNoAnswer, store.OutcomeVoicemail, store.OutcomeBusy:
		return "badge muted"
	case store.CallDialing:
		return "badge live"
	default:
		return "badge wait"
	}
}

// durationText writes a retry gap: a stored call's or, on the agents
// page, an agent's as the API shows it.
func durationText(d any) string {
	switch d := d.(type) {
	case store.Duration:
		return time.Duration(d).String()
	case api.Duration:
		return d.String()
	}
	return fmt.Sprint(d)
}
