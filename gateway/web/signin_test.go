package web_test

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// clientFrom is a dashboard client whose connections come from the
// loopback address local (the whole of 127/8 is loopback on Linux).
func clientFrom(t *testing.T, base, local string) *client {
	t.Helper()
	if c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}).Dial("tcp", strings.TrimPrefix(base, "http://")); err != nil {
		t.Skipf("cannot dial from %s: %v", local, err)
	} else {
		c.Close()
	}
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}).DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{tb: t, base: base, http: &http.Client{Jar: jar, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func TestRefusedSignInsDoNotLockOutOtherAddresses(t *testing.T) {
	f := newFixture(t, "")
	attacker := clientFrom(t, f.srv.URL, "127.0.0.1")
	admin := clientFrom(t, f.srv.URL, "127.0.0.2")
	for i := 0; i < 50; i++ {
		attacker.post("/ui/login", url.Values{"token": {"guess"}})
	}
	if resp, _ := attacker.post("/ui/login", url.Values{"token": {"guess"}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the guessing address after 50 refusals: %d, want 429", resp.StatusCode)
	}
	resp, _ := admin.post("/ui/login", url.Values{"token": {adminToken}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "/ui/") {
		t.Fatalf("the admin from another address: %d, want a sign-in (303 to the overview, /ui/)", resp.StatusCode)
	}
	// Signing in again and again costs the admin's address nothing.
	for i := 0; i < 20; i++ {
		if resp, _ := clientFrom(t, f.srv.URL, "127.0.0.2").post("/ui/login", url.Values{"token": {adminToken}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in %d from the admin's address: %d", i+2, resp.StatusCode)
		}
	}
}

func TestStaticServesFilesNotListings(t *testing.T) {
	f := newFixture(t, "")
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/ui/static/", http.StatusNotFound},
		{"/ui/static/./", http.StatusNotFound},
		{"/ui/static/style.css", http.StatusOK},
		{"/ui/static/app.js", http.StatusOK},
		{"/ui/static/missing.css", http.StatusNotFound},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(f.srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("GET %s = %d, want %d", tc.path, resp.StatusCode, tc.status)
			}
			if strings.Contains(string(b), `<a href="style.css">`) {
				t.Fatalf("GET %s lists the directory:\n%s", tc.path, b)
			}
		})
	}
}
