package server

import (
	"strings"
	"testing"
)

func TestRedactQuery(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"nothing secret", "agent_id=a&type=hubspot", "agent_id=a&type=hubspot"},
		{"api key", "agent_id=a&x_api_key=sk123&type=hubspot", "agent_id=a&x_api_key=REDACTED&type=hubspot"},
		{"token", "token=abc", "token=REDACTED"},
		{"any name with key token secret signature", "apiKey=1&access_token=2&client_secret=3&X-Signature=4&Password=5", "apiKey=REDACTED&access_token=REDACTED&client_secret=REDACTED&X-Signature=REDACTED&Password=REDACTED"},
		{"escaped name", "x%5Fapi%5Fkey=sk123", "x%5Fapi%5Fkey=REDACTED"},
		{"semicolon separator", "a=1;token=abc", "a=1;token=REDACTED"},
		{"repeated", "token=a&token=b", "token=REDACTED&token=REDACTED"},
		{"flag without value kept", "token&a=1", "token&a=1"},
		{"value holding an equals sign", "token=a=b&c=d", "token=REDACTED&c=d"},
		{"phone numbers", "phone=%2B919812345601&number=1&To_Number=2&agent_id=a", "phone=REDACTED&number=REDACTED&To_Number=REDACTED&agent_id=a"},
		{"a search for a person", "q=ada%40example.com&status=failed", "q=REDACTED&status=failed"},
		{"undecodable name", "%zzkey=1&a=2", "%zzkey=REDACTED&a=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactQuery(tt.in); got != tt.want {
				t.Errorf("RedactQuery(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzRedactQuery checks that no secret parameter's value survives, and
// that everything else is kept byte for byte.
func FuzzRedactQuery(f *testing.F) {
	f.Add("agent_id=sales&type=hubspot&x_api_key=sk-123")
	f.Add("token=a;b=c&&=&secret")
	f.Fuzz(func(t *testing.T, raw string) {
		got := RedactQuery(raw)
		in, out := splitPairs(raw), splitPairs(got)
		if len(in) != len(out) {
			t.Fatalf("RedactQuery(%q) = %q: %d pairs became %d", raw, got, len(in), len(out))
		}
		for i := range in {
			name, _, hasValue := strings.Cut(in[i], "=")
			if secretParam(name) && hasValue {
				if out[i] != name+"="+redacted {
					t.Fatalf("secret pair %q became %q", in[i], out[i])
				}
			} else if out[i] != in[i] {
				t.Fatalf("pair %q became %q", in[i], out[i])
			}
		}
	})
}

func splitPairs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '&' || r == ';' })
}
