// Package reply writes callgate's JSON responses: the hosted service's
// {"status","message"} envelope for errors, and plain JSON documents.
package reply

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Envelope is the body of every error and of simple acknowledgements.
type Envelope struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// JSON writes v as a JSON document with the given status code.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing left to tell it
}

// Error writes {"status":"error","message":msg}.
func Error(w http.ResponseWriter, status int, msg string) {
	JSON(w, status, Envelope{Status: "error", Message: msg})
}

// Errorf is Error with a format.
func Errorf(w http.ResponseWriter, status int, format string, args ...any) {
	Error(w, status, fmt.Sprintf(format, args...))
}

// RetryLater writes an error with a Retry-After header (429 or 503).
func RetryLater(w http.ResponseWriter, status int, after time.Duration, msg string) {
	secs := int(after.Seconds() + 0.999)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	Error(w, status, msg)
}
