package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/throttle"
)

// adminAuth checks bearer tokens against sha256 digests. The digest set is
// swapped whole on config reload. Wrong tokens are counted per client
// address; a throttled address gets 429 before its token is looked at.
type adminAuth struct {
	digests  atomic.Pointer[[][sha256.Size]byte]
	throttle *throttle.Throttle
}

func newAdminAuth(hexDigests []string, t *throttle.Throttle) (*adminAuth, error) {
	a := &adminAuth{throttle: t}
	if err := a.set(hexDigests); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *adminAuth) set(hexDigests []string) error {
	ds := make([][sha256.Size]byte, 0, len(hexDigests))
	for i, h := range hexDigests {
		b, err := hex.DecodeString(strings.TrimSpace(h))
		if err != nil || len(b) != sha256.Size {
			return fmt.Errorf("admin token digest #%d is not 64 hex characters of sha256", i+1)
		}
		ds = append(ds, [sha256.Size]byte(b))
	}
	a.digests.Store(&ds)
	return nil
}

// allowed compares the token's digest with every configured one in
// constant time, so timing tells nothing about which (if any) came close.
func (a *adminAuth) allowed(token string) bool {
	sum := sha256.Sum256([]byte(token))
	match := 0
	for _, d := range *a.digests.Load() {
		match |= subtle.ConstantTimeCompare(sum[:], d[:])
	}
	return match == 1
}

func (a *adminAuth) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A refusal closes the connection, so it is sent at once instead
		// of after the rest of a body nobody will read.
		refuse := func() { w.Header().Set("Connection", "close") }
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if len(*a.digests.Load()) == 0 {
			refuse()
			w.Header().Set("WWW-Authenticate", `Bearer realm="callgate"`)
			reply.Error(w, http.StatusUnauthorized, "the admin API is disabled: set server.admin_token_sha256 in the config")
			return
		}
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			refuse()
			w.Header().Set("WWW-Authenticate", `Bearer realm="callgate"`)
			reply.Error(w, http.StatusUnauthorized, "missing admin token: send Authorization: Bearer <token>")
			return
		}
		if wait, ok := a.throttle.Allow(r); !ok {
			refuse()
			reply.RetryLater(w, http.StatusTooManyRequests, wait, "too many refused admin tokens from this address: wait and try again")
			return
		}
		if !a.allowed(strings.TrimSpace(token)) {
			refuse()
			w.Header().Set("WWW-Authenticate", `Bearer realm="callgate", error="invalid_token"`)
			reply.Error(w, http.StatusUnauthorized, "admin token not accepted")
			return
		}
		a.throttle.Succeeded(r)
		next.ServeHTTP(w, r)
	})
}
