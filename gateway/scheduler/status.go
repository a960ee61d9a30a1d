package scheduler

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/reply"
)

// MaxCallbackBytes bounds a status callback's body.
const MaxCallbackBytes = 1 << 20

// StatusHandler serves POST /call/status/{dialer}: the dialer verifies and
// parses the callback, the outcome is recorded, and the platform gets 200
// {"status":"done"}. A redelivered callback is also 200. Unknown dialer or
// call: 404; bad signature: 401; malformed: 400; store failing: 503.
func (s *Scheduler) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			reply.Error(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		name := dialerName(r)
		l, ok := s.lanes[name]
		if !ok {
			reply.Errorf(w, http.StatusNotFound, "unknown dialer %s", reply.Quote(name))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxCallbackBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				reply.Error(w, http.StatusRequestEntityTooLarge, "status callback body is over 1 MiB")
				return
			}
			reply.Error(w, http.StatusBadRequest, "could not read the status callback body")
			return
		}
		o, err := l.d.ParseOutcome(r, body)
		switch {
		case errors.Is(err, dialer.ErrBadSignature):
			s.log.Warn("status callback with a bad signature", "dialer", name)
			reply.Error(w, http.StatusUnauthorized, "invalid signature")
			return
		case errors.Is(err, dialer.ErrIgnored):
			// Platforms post events for calls callgate did not place; a 4xx
			// would only make them redeliver.
			reply.JSON(w, http.StatusOK, reply.Envelope{Status: "done", Message: "ignored: " + err.Error()})
			return
		case err != nil:
			reply.Errorf(w, http.StatusBadRequest, "%v", err)
			return
		}
		err = s.HandleOutcome(r.Context(), name, o)
		switch {
		case err == nil:
			reply.JSON(w, http.StatusOK, reply.Envelope{Status: "done", Message: "outcome recorded"})
		case errors.Is(err, ErrUnknownCall), errors.Is(err, ErrUnknownAttempt):
			reply.Errorf(w, http.StatusNotFound, "%v", err)
		default:
			s.log.Error("record a status callback", "dialer", name, "call", o.CallID, "error", err)
			reply.RetryLater(w, http.StatusServiceUnavailable, 5*time.Second, "could not record the outcome; retry")
		}
	})
}

// dialerName reads {dialer} from the route (gorilla/mux or net/http
// patterns), else the path's last segment.
func dialerName(r *http.Request) string {
	if v := mux.Vars(r)["dialer"]; v != "" {
		return v
	}
	if v := r.PathValue("dialer"); v != "" {
		return v
	}
	p := strings.TrimRight(r.URL.Path, "/")
	return p[strings.LastIndexByte(p, '/')+1:]
}
