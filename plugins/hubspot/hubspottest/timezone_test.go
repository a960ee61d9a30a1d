package hubspottest_test

import (
	"testing"

	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// HubSpot keeps hs_timezone by its option's internal value; the fake
// stores an IANA name given to AddContact the same way.
func TestContactTimezoneAsHubSpotKeepsIt(t *testing.T) {
	s := hubspottest.New(hubspottest.Options{})
	t.Cleanup(s.Close)
	for iana, want := range map[string]string{
		"America/New_York":       "america_slash_new_york",
		"America/Port-au-Prince": "america_slash_port_hyphen_au_hyphen_prince",
		"asia_slash_kolkata":     "asia_slash_kolkata",
	} {
		id := s.AddContact("", map[string]any{"hs_timezone": iana})
		if got, _ := s.Contact(id); got["hs_timezone"] != want {
			t.Errorf("AddContact hs_timezone %q stored as %q, want %q", iana, got["hs_timezone"], want)
		}
	}
}
