package callee_test

import (
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/callee"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, raw, region, want, errHas string
	}{
		{"e164", "+919876543210", "IN", "+919876543210", ""},
		{"national in region", "98765 43210", "IN", "+919876543210", ""},
		{"region in lower case", "098765-43210", "in", "+919876543210", ""},
		{"00 international prefix", "00919876543210", "US", "+919876543210", ""},
		{"us formatting", "(415) 555-0123", "US", "+14155550123", ""},
		{"plus wins over region", "+44 20 7123 4567", "IN", "+442071234567", ""},
		{"spaces around", "  +14155550123\t", "IN", "+14155550123", ""},
		{"empty", "   ", "IN", "", "is empty"},
		{"letters", "call me", "IN", "", "is not a phone number"},
		{"too short", "12", "IN", "", "not a valid phone number in region IN"},
		{"london number read in us", "020 7123 4567", "US", "", "not a valid phone number in region US"},
		{"too long", strings.Repeat("9", 65), "IN", "", "characters long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := callee.Normalize(tt.raw, tt.region)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("Normalize(%q, %q) = %q, %v; want an error with %q", tt.raw, tt.region, got, err, tt.errHas)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Normalize(%q, %q) = %q, %v; want %q", tt.raw, tt.region, got, err, tt.want)
			}
		})
	}
}
