package scheduler_test

import (
	"testing"

	"github.com/callgate/callgate/gateway/scheduler"
)

func TestCalleeTimezone(t *testing.T) {
	tests := []struct {
		number, want string
		ok           bool
	}{
		{"+919876543210", "Asia/Kolkata", true}, // phonenumbers says Asia/Calcutta
		{"+12125550123", "America/New_York", true},
		{"+14155550123", "America/Los_Angeles", true},
		{"+447911123456", "Europe/London", true}, // listed with Guernsey, Jersey, Isle of Man
		{"+61412345678", "Australia/Sydney", true},
		{"+18005550123", "", false}, // toll free: every US zone
		{"not a number", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.number, func(t *testing.T) {
			got, ok := scheduler.CalleeTimezone(tt.number)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("CalleeTimezone(%s) = %q, %v; want %q, %v", tt.number, got, ok, tt.want, tt.ok)
			}
		})
	}
}
