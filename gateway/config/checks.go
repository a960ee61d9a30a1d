package config

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/nyaruka/phonenumbers"

	"github.com/callgate/callgate/gateway/callee"
)

// dialerTypes are the values a dialer's type may take.
var dialerTypes = []string{"http", "callkaro", "log"}

// retryableOutcomes are the attempt outcomes retry.on may name.
var retryableOutcomes = []string{"no_answer", "busy", "failed", "voicemail"}

// weekdays are the names window.days accepts, Sunday first as in time.Weekday.
var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// DefaultCallkaroURL is the hosted service a callkaro dialer talks to
// when its url is not set.
const DefaultCallkaroURL = "https://api.callkaro.ai"

// clockRE is the hosted service's HH:MM pattern.
var clockRE = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):[0-5][0-9]$`)

// ValidClock says whether s is an HH:MM time of day as the hosted service accepts it.
func ValidClock(s string) bool { return clockRE.MatchString(s) }

// ParseRate reads a rate ceiling such as "5/s", "300/m" or "1000/h" and
// returns it in events per second.
func ParseRate(s string) (float64, error) {
	n, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, fmt.Errorf("%q is not a rate: write it like \"5/s\", \"300/m\" or \"1000/h\"", s)
	}
	count, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
	if err != nil || count <= 0 {
		return 0, fmt.Errorf("%q is not a rate: the count must be a positive number, as in \"5/s\"", s)
	}
	per := map[string]float64{"s": 1, "m": 60, "h": 3600}[strings.TrimSpace(unit)]
	if per == 0 {
		return 0, fmt.Errorf("%q is not a rate: the unit must be s, m or h, as in \"300/m\"", s)
	}
	return count / per, nil
}

func (d *decoder) checkListen(rng hcl.Range, v string) bool {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		d.errorf(rng, "listen: %q is not host:port (for example \"127.0.0.1:8080\" or \":8080\")", v)
		return false
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		d.errorf(rng, "listen: port %q of %q is not a port number", port, v)
		return false
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /") {
		d.errorf(rng, "listen: %q is not a host name or IP address", host)
		return false
	}
	return true
}

func (d *decoder) checkURL(rng hcl.Range, name, v string) bool {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.errorf(rng, "%s: %q is not an http(s) URL", name, v)
		return false
	}
	return true
}

func (d *decoder) checkURLs(rng hcl.Range, name string, vs []string) []string {
	var out []string
	for _, v := range vs {
		if d.checkURL(rng, name, v) {
			out = append(out, v)
		}
	}
	return out
}

// checkTimezone reads a timezone setting and returns its current IANA name
// (Asia/Calcutta → Asia/Kolkata); agents (settingOK) may also say "callee"
// or "contact", returned as they are.
func (d *decoder) checkTimezone(rng hcl.Range, name, v string, settingOK bool) (string, bool) {
	if settingOK && (v == callee.FromNumber || v == callee.FromContact) {
		return v, true
	}
	if v == "" || strings.EqualFold(v, "local") {
		d.errorf(rng, "%s: %q is not an IANA timezone name (like \"Asia/Kolkata\")", name, v)
		return "", false
	}
	tz, _, err := callee.Lookup(v)
	if err != nil {
		hint := ""
		if settingOK {
			hint = `, "callee" (the timezone of the number called) or "contact" (the record's own timezone, as HubSpot's hs_timezone)`
		}
		d.errorf(rng, "%s: unknown timezone %q: use an IANA name like \"Asia/Kolkata\" or \"America/New_York\"%s", name, v, hint)
		return "", false
	}
	return tz, true
}

func (d *decoder) checkRegion(rng hcl.Range, name, v string) bool {
	if !phonenumbers.GetSupportedRegions()[strings.ToUpper(v)] {
		d.errorf(rng, "%s: unknown region %q: use a two-letter ISO country code like \"IN\" or \"US\"", name, v)
		return false
	}
	return true
}

func (d *decoder) checkSHA256(rng hcl.Range, name, v string) bool {
	if b, err := hex.DecodeString(v); err != nil || len(b) != 32 {
		d.errorf(rng, "%s: %q is not a sha256 in hex (64 characters 0-9a-f); `printf %%s KEY | sha256sum` prints one", name, abbreviate(v))
		return false
	}
	return true
}

// abbreviate keeps a long value out of an error message; a mistyped hash
// may be the secret itself pasted in the wrong place.
func abbreviate(v string) string {
	if len(v) > 12 {
		return v[:6] + "…"
	}
	return v
}

func (d *decoder) checkOneOf(rng hcl.Range, name, v string, allowed ...string) bool {
	if !slices.Contains(allowed, v) {
		d.errorf(rng, "%s: %q is not one of %s", name, v, strings.Join(allowed, ", "))
		return false
	}
	return true
}

func (d *decoder) checkClock(rng hcl.Range, name, v string) bool {
	if !ValidClock(v) {
		d.errorf(rng, "%s: %q is not a time of day HH:MM between 00:00 and 23:59", name, v)
		return false
	}
	return true
}

func (d *decoder) checkDays(rng hcl.Range, vs []string) []string {
	var out []string
	for _, v := range vs {
		day := strings.ToLower(v)
		if !slices.Contains(weekdays, day) {
			d.errorf(rng, "days: %q is not a day: use mon, tue, wed, thu, fri, sat, sun", v)
			continue
		}
		if slices.Contains(out, day) {
			d.errorf(rng, "days: %q is listed twice", v)
			continue
		}
		out = append(out, day)
	}
	return out
}
