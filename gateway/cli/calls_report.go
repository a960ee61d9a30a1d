package cli

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/notify"
	"github.com/callgate/callgate/gateway/store"
)

// Transcript excerpt of calls show: the first lines, each cut short; -o
// json has the whole transcript.
const (
	excerptLines = 6
	excerptWidth = 120
)

// hasReport reports whether the platform said anything about the
// attempt's conversation.
func hasReport(a api.Attempt) bool {
	return a.RecordingURL != "" || len(a.Transcript) > 0 || a.Summary != "" || a.Disposition != "" ||
		a.FromNumber != "" || len(a.Data) > 0 || a.Activity != nil
}

// printReports writes, for each attempt the platform reported on, its
// disposition, summary, recording, number, post-call data and the start
// of its transcript.
func printReports(o *rootOptions, attempts []api.Attempt) {
	for _, a := range attempts {
		if !hasReport(a) {
			continue
		}
		fmt.Fprintf(o.Stdout, "\nattempt %d\n", a.N)
		t := newTable(o)
		t.row("  disposition", terminalSafe(a.Disposition))
		t.row("  summary", terminalSafe(a.Summary))
		t.row("  recording", terminalSafe(a.RecordingURL))
		t.row("  from", a.FromNumber)
		t.row("  data", terminalSafe(dataLine(a.Data)))
		if a.Activity != nil {
			t.row("  in the CRM", terminalSafe(activityLine(*a.Activity)))
		}
		lines := transcriptLines(a.Transcript)
		t.row("  transcript", fmt.Sprintf("%d turns", len(a.Transcript)))
		_ = t.flush()
		for i, l := range lines {
			if i == excerptLines {
				fmt.Fprintf(o.Stdout, "    … %d more lines (calls show -o json has the whole transcript)\n", len(lines)-excerptLines)
				break
			}
			fmt.Fprintf(o.Stdout, "    %s\n", cut(terminalSafe(l), excerptWidth))
		}
	}
}

// transcriptLines is the transcript as lines of text (a one-string
// transcript has its own line breaks).
func transcriptLines(turns []api.Turn) []string {
	same := make([]store.Turn, len(turns))
	for i, t := range turns {
		same[i] = store.Turn(t)
	}
	text := notify.TranscriptText(same)
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// dataLine writes post-call data as key=value pairs, sorted.
func dataLine(data map[string]any) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, data[k])
	}
	return strings.Join(parts, " ")
}

// terminalSafe drops control characters: the text comes from a voice
// platform, and an escape sequence must not reach the operator's
// terminal.
func terminalSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			if r == '\n' || r == '\t' {
				return ' '
			}
			return -1
		}
		return r
	}, s)
}

// cut shortens s to n runes.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// activityLine says what the write-back logged: the call's id in the CRM,
// its follow-up tasks and the properties set.
func activityLine(act api.Activity) string {
	s := "call " + act.ID
	if len(act.TaskIDs) > 0 {
		s += ", tasks " + strings.Join(act.TaskIDs, " ")
	}
	if len(act.Updated) > 0 {
		s += ", set " + strings.Join(act.Updated, " ")
	}
	return s + ", " + act.LoggedAt.UTC().Format(time.RFC3339)
}
