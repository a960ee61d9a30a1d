package ingest

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/callgate/callgate/gateway/config"
)

// readWebhookBody reads the body under server.max_body_bytes (as
// readBody), into one buffer of the declared length when there is one:
// io.ReadAll would grow its buffer several times for a 100-event batch.
func readWebhookBody(r *http.Request, cfg *config.Config) ([]byte, error) {
	limit := cfg.Server.MaxBodyBytes
	if limit <= 0 {
		limit = 1 << 20
	}
	n := r.ContentLength
	if n < 0 || n > limit {
		return readBody(r, cfg) // unknown length (chunked) or too long: the general path answers
	}
	// One byte more than declared, so a body longer than its
	// Content-Length (net/http stops at it; a wrapper might not) is seen.
	buf := make([]byte, n+1)
	got, err := io.ReadFull(r.Body, buf)
	switch {
	case int64(got) == n && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)):
		return buf[:got], nil
	case err == nil:
		return nil, fail(http.StatusBadRequest, "The request body is longer than its Content-Length (%d bytes)", n)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return nil, fail(http.StatusBadRequest, "Could not read the request body: %d of %d bytes came", got, n)
	default:
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, fail(http.StatusBadRequest, "Could not read the request body: %v", err)
	}
}

// writeWebhookReply writes the 200 answer as reply.JSON would, without
// reflection: the reply has five fixed fields and a message made here
// (message), which needs no escaping.
func writeWebhookReply(w http.ResponseWriter, res WebhookReply) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["X-Content-Type-Options"] = nosniff
	w.WriteHeader(http.StatusOK)
	b := make([]byte, 0, 128)
	b = append(b, `{"status":`...)
	b = strconv.AppendQuote(b, res.Status)
	b = append(b, `,"message":`...)
	b = strconv.AppendQuote(b, res.Message)
	b = append(b, `,"accepted":`...)
	b = strconv.AppendInt(b, int64(res.Accepted), 10)
	b = append(b, `,"duplicates":`...)
	b = strconv.AppendInt(b, int64(res.Duplicates), 10)
	b = append(b, `,"ignored":`...)
	b = strconv.AppendInt(b, int64(res.Ignored), 10)
	b = append(b, `,"failed":`...)
	b = strconv.AppendInt(b, int64(res.Failed), 10)
	b = append(b, "}\n"...)
	_, _ = w.Write(b) // the client went away; nothing left to tell it
}

// Header values shared by every reply (net/http only reads them).
var (
	jsonContentType = []string{"application/json; charset=utf-8"}
	nosniff         = []string{"nosniff"}
)
