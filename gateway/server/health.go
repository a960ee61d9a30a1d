package server

import (
	"net/http"

	"github.com/callgate/callgate/gateway/reply"
)

type readyCheck struct {
	name  string
	check func() error
}

// AddReadyCheck adds a named readiness check to /readyz ("store",
// "plugins"). /readyz answers 503 while any check returns an error.
func (s *Server) AddReadyCheck(name string, check func() error) {
	s.readyMu.Lock()
	defer s.readyMu.Unlock()
	s.ready = append(s.ready, readyCheck{name: name, check: check})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	reply.JSON(w, http.StatusOK, reply.Envelope{Status: "ok", Message: "callgate is up"})
}

// readiness is /readyz's body: the envelope plus each check's result.
type readiness struct {
	Status  string            `json:"status"`
	Message string            `json:"message"`
	Checks  map[string]string `json:"checks"`
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	s.readyMu.Lock()
	checks := append([]readyCheck(nil), s.ready...)
	s.readyMu.Unlock()

	body := readiness{Status: "ready", Message: "every check passed", Checks: map[string]string{}}
	status := http.StatusOK
	for _, c := range checks {
		if err := c.check(); err != nil {
			body.Checks[c.name] = err.Error()
			if status == http.StatusOK {
				status = http.StatusServiceUnavailable
				body.Status, body.Message = "error", "not ready: "+c.name+": "+err.Error()
			}
			continue
		}
		body.Checks[c.name] = "ok"
	}
	reply.JSON(w, status, body)
}
