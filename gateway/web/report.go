package web

import (
	"encoding/json"
	"fmt"
	"net/url"
)

// recordingURL is u when it is an absolute http or https URL, else "":
// the dashboard never hands a javascript: or data: URL from a voice
// platform to the audio player or a link. (The http dialer refuses such a
// URL already; this also covers records written before that check, or
// by another path.)
func recordingURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return u
}

// plainValue shows one post-call data value: text as it is, numbers and
// booleans plainly, lists and objects as JSON.
func plainValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64, bool:
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
