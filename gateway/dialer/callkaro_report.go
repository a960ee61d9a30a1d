package dialer

import (
	"bytes"
	"encoding/json"
	"strings"
)

// callkaroReport maps the conversation fields of a call_ended webhook
// onto a Report (docs/dialers.md has the table). callgate cannot ask the
// hosted service to fix a payload, so a field in an unexpected shape is
// dropped rather than refusing the outcome with it.
func callkaroReport(c CallkaroCallEnded) Report {
	r := Report{Disposition: clip(c.DispositionReason, MaxDisposition)}
	if u := rawString(c.RecordingURL); u != "" && checkRecordingURL(u) == nil {
		r.RecordingURL = u
	}
	r.FromNumber = callkaroNumber(rawString(c.From))
	var t Transcript
	if len(c.Transcription) > 0 && json.Unmarshal(c.Transcription, &t) == nil {
		r.Transcript = t
	}
	r.Data = callkaroData(c)
	for _, k := range []string{"summary", "call_summary"} {
		if s, ok := r.Data[k].(string); ok && strings.TrimSpace(s) != "" {
			r.Summary = clip(s, MaxSummary)
			break
		}
	}
	return r
}

// callkaroData is the post-call extraction: post_call as sent (else the
// values of post_call_detail), plus conversion_status and call_link,
// which carry no other field of an attempt. A post_call key of the same
// name wins.
func callkaroData(c CallkaroCallEnded) map[string]any {
	data := map[string]any{}
	var post map[string]any
	if json.Unmarshal(c.PostCall, &post) == nil {
		for k, v := range post {
			data[k] = v
		}
	}
	if len(data) == 0 {
		var detail map[string]struct {
			Value any `json:"value"`
		}
		if json.Unmarshal(c.PostCallDetail, &detail) == nil {
			for k, d := range detail {
				if d.Value != nil {
					data[k] = d.Value
				}
			}
		}
	}
	if _, taken := data["conversion_status"]; !taken {
		switch string(bytes.TrimSpace(c.ConversionStatus)) {
		case "true":
			data["conversion_status"] = true
		case "false":
			data["conversion_status"] = false
		}
	}
	if link := rawString(c.CallLink); link != "" && checkRecordingURL(link) == nil {
		if _, taken := data["call_link"]; !taken {
			data["call_link"] = link
		}
	}
	if len(data) == 0 {
		return nil
	}
	return data
}

// callkaroNumber reads the hosted service's numbers, written without "+"
// ("919876543210"), as E.164; anything else is dropped.
func callkaroNumber(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if !strings.HasPrefix(s, "+") {
		s = "+" + s
	}
	if !e164.MatchString(s) {
		return ""
	}
	return s
}

// rawString is a raw JSON value as a string, "" unless it is one.
func rawString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}
