package scheduler

import "testing"

// The rule itself is tested in gateway/callee; this checks the scheduler
// reads stored policies with it.
func TestResolveTimezone(t *testing.T) {
	tests := []struct {
		tz, number, fallback, want string
	}{
		{"Asia/Kolkata", "+14155550123", "UTC", "Asia/Kolkata"},
		{"Asia/Calcutta", "", "UTC", "Asia/Kolkata"},
		{"", "+14155550123", "Europe/Paris", "Europe/Paris"},
		{"callee", "+14155550123", "UTC", "America/Los_Angeles"},
		{"callee", "+919876543210", "UTC", "Asia/Kolkata"},
		{"callee", "+18005551234", "Asia/Kolkata", "Asia/Kolkata"},
		{"contact", "+14155550123", "Asia/Kolkata", "Asia/Kolkata"},
	}
	for _, tt := range tests {
		name, loc, err := resolveTimezone(tt.tz, tt.number, tt.fallback)
		if err != nil || name != tt.want || loc.String() != tt.want {
			t.Errorf("resolveTimezone(%q, %q, %q) = %q, %v, %v; want %q", tt.tz, tt.number, tt.fallback, name, loc, err, tt.want)
		}
	}
	if _, _, err := resolveTimezone("Mars/Base", "", "UTC"); err == nil {
		t.Error("an unknown zone resolved")
	}
}
