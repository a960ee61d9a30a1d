package notify

import (
	"strings"

	"github.com/callgate/callgate/gateway/store"
)

// OutcomeFields are what the platform reported about an attempt's
// conversation, in a notification (docs/dialers.md, "Payload"). Most are
// sent twice: under the hosted call_ended name a drop-in receiver reads
// (recordingUrl, transcription as one text, from without "+") and under
// callgate's (the attempt's fields in the API). The post-call data is
// post_call only: a "data" key inside the envelope's "data" would be
// ambiguous, for receivers and for erasure. All are personal data,
// erased with the rest of the body.
type OutcomeFields struct {
	RecordingURLHosted string         `json:"recordingUrl,omitempty"`
	Transcription      string         `json:"transcription,omitempty"`
	From               string         `json:"from,omitempty"`
	PostCall           map[string]any `json:"post_call,omitempty"`
	BatchIDHosted      string         `json:"batchId,omitempty"`

	RecordingURL string       `json:"recording_url,omitempty"`
	Transcript   []store.Turn `json:"transcript,omitempty"`
	Summary      string       `json:"summary,omitempty"`
	Disposition  string       `json:"disposition,omitempty"`
	FromNumber   string       `json:"from_number,omitempty"`
	Priority     int          `json:"priority,omitempty"`
	Language     string       `json:"language,omitempty"`
}

// outcomeFields fills OutcomeFields from a call and its ended attempt
// (nil: only the call's own fields).
func outcomeFields(c store.Call, a *store.Attempt) OutcomeFields {
	f := OutcomeFields{BatchIDHosted: c.BatchID, Priority: c.Priority, Language: c.Language}
	if a == nil {
		return f
	}
	f.RecordingURL, f.RecordingURLHosted = a.RecordingURL, a.RecordingURL
	f.Transcript, f.Transcription = a.Transcript, TranscriptText(a.Transcript)
	f.Summary, f.Disposition = a.Summary, a.Disposition
	f.FromNumber, f.From = a.FromNumber, strings.TrimPrefix(a.FromNumber, "+")
	f.PostCall = a.Data
	return f
}

// TranscriptText writes turns as text, one line per turn: "speaker: text",
// or the text alone for a turn without a speaker (a transcript the
// platform sent as one string comes back as it was).
func TranscriptText(turns []store.Turn) string {
	var b strings.Builder
	for i, t := range turns {
		if i > 0 {
			b.WriteByte('\n')
		}
		if t.Speaker != "" {
			b.WriteString(t.Speaker)
			b.WriteString(": ")
		}
		b.WriteString(t.Text)
	}
	return b.String()
}

// OutcomeVars is the outcome of attempt a as rules see it after the call
// (outcome.status, outcome.summary, outcome.data.lead_status, …;
// docs/rules.md, "After the call"). Write-back and follow-up rules put it
// in their environment as "outcome". Every key is present: text is ""
// and times nil when unknown, data an empty map, so a rule can test
// outcome.summary != "" without guarding against nil.
func OutcomeVars(a store.Attempt) map[string]any {
	turns := make([]any, len(a.Transcript))
	for i, t := range a.Transcript {
		turn := map[string]any{"speaker": t.Speaker, "text": t.Text, "at": nil}
		if t.At != nil {
			turn["at"] = *t.At
		}
		turns[i] = turn
	}
	data := make(map[string]any, len(a.Data))
	for k, v := range a.Data {
		data[k] = v
	}
	vars := map[string]any{
		"status":           a.Outcome,
		"attempt":          a.N,
		"reason":           a.Reason,
		"duration_s":       a.DurationS,
		"provider_call_id": a.ProviderCallID,
		"started_at":       nil,
		"ended_at":         nil,
		"recording_url":    a.RecordingURL,
		"transcript":       TranscriptText(a.Transcript),
		"turns":            turns,
		"summary":          a.Summary,
		"disposition":      a.Disposition,
		"from_number":      a.FromNumber,
		"data":             data,
	}
	if !a.StartedAt.IsZero() {
		vars["started_at"] = a.StartedAt
	}
	if a.EndedAt != nil {
		vars["ended_at"] = *a.EndedAt
	}
	return vars
}
