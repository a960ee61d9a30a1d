package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strings"
	"time"

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
	"duration": func(d store.Duration) string { return time.Duration(d).String() },
	"badge":    badgeClass,
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
