package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cookieName holds the session id; the admin token itself never leaves
// the sign-in form.
const cookieName = "callgate_session"

// maxSessions bounds memory: past it the oldest session is dropped.
const maxSessions = 10000

type session struct {
	csrf    string
	expires time.Time
	flash   flash
}

// flash is a one-time message shown on the next page.
type flash struct {
	Text string
	Bad  bool
}

// sessions maps random session ids to their state, server side only.
type sessions struct {
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	byID map[string]*session
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, now: now, byID: map[string]*session{}}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session and returns its id.
func (s *sessions) create() (string, *session) {
	id := randomToken()
	sess := &session{csrf: randomToken(), expires: s.now().Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.byID {
		if now.After(v.expires) {
			delete(s.byID, k)
		}
	}
	if len(s.byID) >= maxSessions {
		var oldest string
		for k, v := range s.byID {
			if oldest == "" || v.expires.Before(s.byID[oldest].expires) {
				oldest = k
			}
		}
		delete(s.byID, oldest)
	}
	s.byID[id] = sess
	return id, sess
}

// get returns the live session for id.
func (s *sessions) get(id string) (*session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	if s.now().After(sess.expires) {
		delete(s.byID, id)
		return nil, false
	}
	return sess, true
}

func (s *sessions) delete(id string) {
	s.mu.Lock()
	delete(s.byID, id)
	s.mu.Unlock()
}

// setFlash leaves a one-time message for the next page.
func (s *sessions) setFlash(sess *session, msg flash) {
	s.mu.Lock()
	sess.flash = msg
	s.mu.Unlock()
}

func (s *sessions) popFlash(sess *session) flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := sess.flash
	sess.flash = flash{}
	return m
}

// tokenAllowed compares the token's sha256 with every configured digest
// in constant time.
func tokenAllowed(token string, hexDigests []string) bool {
	if token == "" {
		return false
	}
	sum := sha256.Sum256([]byte(token))
	match := 0
	for _, h := range hexDigests {
		d, err := hex.DecodeString(strings.TrimSpace(h))
		if err != nil || len(d) != sha256.Size {
			continue
		}
		match |= subtle.ConstantTimeCompare(sum[:], d)
	}
	return match == 1
}

// secureRequest reports whether the session cookie must carry Secure:
// the request came over TLS, or the public URL is https (TLS ends at a
// proxy in front of callgate).
func (d *Dashboard) secureRequest(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return strings.HasPrefix(strings.ToLower(d.opts.Config().Server.PublicURL), "https://")
}

func (d *Dashboard) setSessionCookie(w http.ResponseWriter, r *http.Request, id string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    id,
		Path:     Prefix,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   d.secureRequest(r),
		SameSite: http.SameSiteStrictMode,
	})
}

// currentSession returns the request's live session.
func (d *Dashboard) currentSession(r *http.Request) (string, *session, bool) {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return "", nil, false
	}
	sess, ok := d.sessions.get(c.Value)
	return c.Value, sess, ok
}

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := d.currentSession(r); ok {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	d.render(w, r, nil, "login", http.StatusOK, page{Title: "Sign in"})
}

// login checks a posted admin token. Refusals are counted per client
// address (Options.SignInThrottle, shared with the admin API): an address
// past its budget gets 429 before its token is looked at, so guessing
// stays slow, while a sign-in from any other address goes through.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil { // cut off, too big or malformed: no guess was made
		d.render(w, r, nil, "login", http.StatusBadRequest, page{Title: "Sign in", Error: "The sign-in form could not be read; try again."})
		return
	}
	digests := d.opts.Config().Server.AdminTokenSHA256
	if len(digests) == 0 {
		d.render(w, r, nil, "login", http.StatusUnauthorized, page{Title: "Sign in",
			Error: "The dashboard is disabled: set server.admin_token_sha256 in the config (callgate keys new --admin prints one)."})
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	if token == "" {
		d.render(w, r, nil, "login", http.StatusUnauthorized, page{Title: "Sign in", Error: "Paste an admin token to sign in."})
		return
	}
	if wait, ok := d.opts.SignInThrottle.Allow(r); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(wait.Seconds()+0.999))))
		d.render(w, r, nil, "login", http.StatusTooManyRequests, page{Title: "Sign in",
			Error: "Too many refused sign-ins from this address; wait a minute and try again."})
		return
	}
	if !tokenAllowed(token, digests) {
		d.opts.Logger.Warn("dashboard: sign-in refused", "remote", r.RemoteAddr)
		d.render(w, r, nil, "login", http.StatusUnauthorized, page{Title: "Sign in", Error: "That admin token was not accepted."})
		return
	}
	d.opts.SignInThrottle.Succeeded(r)
	id, _ := d.sessions.create()
	d.setSessionCookie(w, r, id, int(d.opts.SessionTTL.Seconds()))
	d.opts.Logger.Info("dashboard: signed in", "remote", r.RemoteAddr)
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	if id, sess, ok := d.currentSession(r); ok {
		if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.csrf)) != 1 {
			http.Error(w, "this form is stale or was not sent by the dashboard: reload the page and try again", http.StatusForbidden)
			return
		}
		d.sessions.delete(id)
	}
	d.setSessionCookie(w, r, "", -1)
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
}

// authed wraps a page: no session → the sign-in page; a POST must carry
// the session's CSRF token.
func (d *Dashboard) authed(next func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, sess, ok := d.currentSession(r)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
				return
			}
			http.Error(w, "your session has ended: sign in again", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			got := r.PostFormValue("csrf")
			if subtle.ConstantTimeCompare([]byte(got), []byte(sess.csrf)) != 1 {
				http.Error(w, "this form is stale or was not sent by the dashboard: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		next(w, r, sess)
	})
}
