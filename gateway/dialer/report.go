package dialer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// Report is what a platform said about the conversation of an attempt,
// beside its status (docs/dialers.md, "Outcome fields"). Every field is
// optional, and all of it is personal data.
type Report struct {
	RecordingURL string       // an absolute http(s) URL
	Transcript   []store.Turn // a plain-text transcript is one Turn without a speaker
	Summary      string
	Disposition  string // the platform's own word for how the call went, e.g. "interested"
	FromNumber   string // E.164: the number the call was placed from
	// Data is the platform's post-call extraction, as it sent it.
	Data map[string]any
}

// Limits of the outcome fields. They are generous: a platform that
// exceeds one is sending something else than a call's record.
const (
	MaxRecordingURL = 2048
	MaxTurns        = 5000
	MaxSpeaker      = 100
	MaxTurnText     = 20000
	MaxSummary      = 20000
	MaxDisposition  = 200
	MaxDataKeys     = 200
	MaxDataKey      = 100
)

// Transcript is a transcript as a platform sends it: one string, or an
// array of {"speaker","text","at"} turns. It encodes as the array.
type Transcript []store.Turn

// wireTurn is a turn as it arrives; at is read by hand so that a bad
// time names its turn.
type wireTurn struct {
	Speaker *string `json:"speaker"`
	Text    *string `json:"text"`
	At      *string `json:"at"`
}

// UnmarshalJSON reads a string (one turn without a speaker; "" is none)
// or an array of turns. Errors name the field and the turn.
func (t *Transcript) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fieldErr("transcript", "is not a valid JSON string")
		}
		if strings.TrimSpace(s) == "" {
			*t = nil
			return nil
		}
		*t = Transcript{{Text: s}}
		return nil
	case len(b) > 0 && b[0] == '[':
	default:
		return fieldErr("transcript", "must be a string or an array of {\"speaker\",\"text\",\"at\"} turns")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fieldErr("transcript", "is not a valid JSON array")
	}
	if len(raw) > MaxTurns {
		return fieldErr("transcript", "has %d turns; at most %d are kept", len(raw), MaxTurns)
	}
	out := make(Transcript, 0, len(raw))
	for i, r := range raw {
		turn, err := parseTurn(r)
		if err != nil {
			return fieldErr(fmt.Sprintf("transcript[%d]", i), "%s", err)
		}
		out = append(out, turn)
	}
	*t = out
	return nil
}

func parseTurn(raw json.RawMessage) (store.Turn, error) {
	var w wireTurn
	if err := json.Unmarshal(raw, &w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return store.Turn{}, fmt.Errorf(".%s must be a string, not a JSON %s", te.Field, te.Value)
		}
		return store.Turn{}, errors.New(`must be an object {"speaker","text","at"}`)
	}
	var turn store.Turn
	switch {
	case w.Text == nil:
		return turn, errors.New(".text is missing")
	case len(*w.Text) > MaxTurnText:
		return turn, fmt.Errorf(".text is %d bytes; at most %d", len(*w.Text), MaxTurnText)
	}
	turn.Text = *w.Text
	if w.Speaker != nil {
		if len(*w.Speaker) > MaxSpeaker {
			return turn, fmt.Errorf(".speaker is %d bytes; at most %d", len(*w.Speaker), MaxSpeaker)
		}
		turn.Speaker = *w.Speaker
	}
	if w.At != nil && *w.At != "" {
		at, err := time.Parse(time.RFC3339Nano, *w.At)
		if err != nil {
			return turn, fmt.Errorf(".at %q is not an RFC 3339 time (2026-11-27T09:00:17Z)", clip(*w.At, 40))
		}
		at = at.UTC()
		turn.At = &at
	}
	return turn, nil
}

// validate checks a report from the http dialer's contract, where the
// sender is ours to instruct: a bad field is refused, naming itself.
func (r Report) validate() error {
	if r.RecordingURL != "" {
		if err := checkRecordingURL(r.RecordingURL); err != nil {
			return fieldErr("recording_url", "%s", err)
		}
	}
	switch {
	case len(r.Summary) > MaxSummary:
		return fieldErr("summary", "is %d bytes; at most %d", len(r.Summary), MaxSummary)
	case len(r.Disposition) > MaxDisposition:
		return fieldErr("disposition", "is %d bytes; at most %d", len(r.Disposition), MaxDisposition)
	case r.FromNumber != "" && !e164.MatchString(r.FromNumber):
		return fieldErr("from_number", "%q is not an E.164 number (+14155550123)", clip(r.FromNumber, 40))
	case len(r.Data) > MaxDataKeys:
		return fieldErr("data", "has %d keys; at most %d", len(r.Data), MaxDataKeys)
	}
	for k := range r.Data {
		if k == "" || len(k) > MaxDataKey {
			return fieldErr("data", "key %q must be 1 to %d bytes", clip(k, 40), MaxDataKey)
		}
	}
	return nil
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// checkRecordingURL accepts an absolute http or https URL: anything else
// (javascript:, data:, a relative path) must never reach the dashboard's
// audio player.
func checkRecordingURL(s string) error {
	if len(s) > MaxRecordingURL {
		return fmt.Errorf("is %d bytes; at most %d", len(s), MaxRecordingURL)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q must be an absolute http:// or https:// URL", clip(s, 80))
	}
	return nil
}

// fieldError is a callback field that is not as docs/dialers.md says.
type fieldError struct {
	field, msg string
}

func (e *fieldError) Error() string {
	if strings.HasPrefix(e.msg, ".") {
		return e.field + e.msg
	}
	return e.field + " " + e.msg
}

func fieldErr(field, format string, args ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// decodeError turns a json.Unmarshal error into one that names the
// callback's field in the contract's words.
func decodeError(err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		return fe
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s must be %s, not a JSON %s", te.Field, kindName(te.Type), te.Value)
	}
	return fmt.Errorf("not the status callback object of docs/dialers.md: %v", err)
}

func kindName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice:
		return "an array"
	case reflect.Bool:
		return "true or false"
	}
	return "another type"
}
