package sdk

import (
	"testing"
	"time"
)

func TestValueText(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		want string
	}{
		{"string", StringValue("+91 98765 43210"), "+91 98765 43210"},
		{"phone sent as a number", NumberValue(9876543210), "9876543210"},
		{"decimal", NumberValue(2.5), "2.5"},
		{"large number, no exponent", NumberValue(1e15), "1000000000000000"},
		{"bool", BoolValue(true), ""},
		{"time", TimeValue(time.Unix(0, 0)), ""},
		{"null", Value{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.Text(); got != tt.want {
				t.Fatalf("Text() = %q, want %q", got, tt.want)
			}
		})
	}
}
