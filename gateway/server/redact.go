package server

import (
	"net/url"
	"strings"
)

// redacted replaces secret values in logged query strings.
const redacted = "REDACTED"

// RedactQuery returns a raw query string with the values of secret
// parameters replaced by REDACTED: x_api_key, token, and any name
// containing key, token, secret, signature or password (case-insensitive);
// and of the parameters that carry a person's number (phone, number,
// to_number) or a search for a person (q: a number, email or name), so
// access logs hold none (an erasure cannot reach them).
// Other parameters are kept byte for byte, in order.
func RedactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(raw))
	for raw != "" {
		// Semicolons are not separators to net/url, but some servers and
		// proxies treat them as such; redact either way.
		end := strings.IndexAny(raw, "&;")
		pair, sep := raw, ""
		if end >= 0 {
			pair, sep, raw = raw[:end], raw[end:end+1], raw[end+1:]
		} else {
			raw = ""
		}
		name, _, hasValue := strings.Cut(pair, "=")
		if secretParam(name) && hasValue {
			b.WriteString(name + "=" + redacted)
		} else {
			b.WriteString(pair)
		}
		b.WriteString(sep)
	}
	return b.String()
}

func secretParam(rawName string) bool {
	name, err := url.QueryUnescape(rawName)
	if err != nil {
		return true // cannot tell what it is; do not risk printing it
	}
	name = strings.ToLower(name)
	switch name {
	case "phone", "number", "to_number", "q":
		return true
	}
	for _, w := range []string{"key", "token", "secret", "signature", "password"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}
