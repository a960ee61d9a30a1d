package rules

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // tests need Asia/Kolkata on machines without zoneinfo
)

func kolkata(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestTitle(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ada lovelace", "Ada Lovelace"},
		{"ADA LOVELACE", "Ada Lovelace"},
		{"anne-marie o'neil", "Anne-Marie O'neil"},
		{"  priya  ", "  Priya  "},
		{"dr. r. k. narayan", "Dr. R. K. Narayan"},
		{"émile zola", "Émile Zola"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Title(tt.in); got != tt.want {
				t.Errorf("Title(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestHelpersOnValues(t *testing.T) {
	loc := kolkata(t)
	p := &Program{location: loc, region: "IN", zones: &sync.Map{}}
	tests := []struct {
		name    string
		fn      func(...any) (any, error)
		args    []any
		want    any
		wantErr string
	}{
		{"title nil", titleHelper, []any{nil}, nil, ""},
		{"title number", titleHelper, []any{2.0}, nil, "title: want text, got float64"},
		{"first_name", firstNameHelper, []any{"  ada   lovelace "}, "Ada", ""},
		{"first_name blank", firstNameHelper, []any{"   "}, nil, ""},
		{"first_name nil", firstNameHelper, []any{nil}, nil, ""},
		{"words number", wordsHelper, []any{2500.0}, "two thousand five hundred", ""},
		{"words int", wordsHelper, []any{125000}, "one lakh twenty-five thousand", ""},
		{"words text", wordsHelper, []any{"1,25,000"}, "one lakh twenty-five thousand", ""},
		{"words nil", wordsHelper, []any{nil}, nil, ""},
		{"words not a number", wordsHelper, []any{"lots"}, nil, `words: "lots": not a number`},
		{"words hex refused", wordsHelper, []any{"0x10"}, nil, "not a number"},
		{"words bool", wordsHelper, []any{true}, nil, "words: bool true: not a number"},
		{"round_to hundred", roundToHelper, []any{2459.0, 100}, 2500.0, ""},
		{"round_to thousand", roundToHelper, []any{987, 1000}, 1000.0, ""},
		{"round_to half away from zero", roundToHelper, []any{-250.0, 100}, -300.0, ""},
		{"round_to decimal step", roundToHelper, []any{0.26, 0.1}, 0.3, ""},
		{"round_to text", roundToHelper, []any{"2459", 100}, 2500.0, ""},
		{"round_to nil", roundToHelper, []any{nil, 100}, nil, ""},
		{"round_to zero step", roundToHelper, []any{5.0, 0}, nil, "step must be a positive number"},
		{"round_to text step", roundToHelper, []any{5.0, "x"}, nil, "step must be a number"},
		{"e164 local", p.e164, []any{"98765 43210"}, "+919876543210", ""},
		{"e164 with plus", p.e164, []any{"+1 (415) 555-0123"}, "+14155550123", ""},
		{"e164 region", p.e164, []any{"(415) 555-0123", "us"}, "+14155550123", ""},
		{"e164 number", p.e164, []any{9876543210.0}, "+919876543210", ""},
		{"e164 invalid", p.e164, []any{"12345"}, nil, ""},
		{"e164 garbage", p.e164, []any{"call me"}, nil, ""},
		{"e164 nil", p.e164, []any{nil}, nil, ""},
		{"e164 nil region is the default", p.e164, []any{"98765 43210", nil}, "+919876543210", ""},
		{"e164 region not text", p.e164, []any{"98765 43210", 1.0}, nil, "e164 region: want text"},
		{"format_date layout nil", p.formatDate, []any{"2026-11-27", nil, ""}, nil, "the layout must be text"},
		{"format_date zone nil", p.formatDate, []any{"2026-11-27", "2006", nil}, "2026", ""},
		{"e164 bool", p.e164, []any{true}, nil, "e164: want a phone number as text"},
		{"format_date time", p.formatDate, []any{time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC), "2 Jan 2006", ""}, "27 Nov 2026", ""},
		{"format_date agent zone", p.formatDate, []any{time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC), "Monday 3 PM", ""}, "Friday 3 PM", ""},
		{"format_date other zone", p.formatDate, []any{time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC), "Monday 3:04 PM", "America/New_York"}, "Friday 4:30 AM", ""},
		{"format_date iso", p.formatDate, []any{"2026-11-27T09:30:00Z", "2 Jan 2006 15:04", ""}, "27 Nov 2026 15:00", ""},
		{"format_date iso without zone", p.formatDate, []any{"2026-11-27T09:30:00", "15:04 MST", ""}, "09:30 IST", ""},
		{"format_date date only", p.formatDate, []any{"2026-11-27", "Monday, 2 January", ""}, "Friday, 27 November", ""},
		{"format_date epoch ms", p.formatDate, []any{1764235800000.0, "2 Jan 2006 3:04 PM", ""}, "27 Nov 2025 3:00 PM", ""},
		{"format_date epoch ms text", p.formatDate, []any{"1764235800000", "2006-01-02", ""}, "2025-11-27", ""},
		{"format_date compact date", p.formatDate, []any{"20261127", "2 Jan 2006", ""}, "27 Nov 2026", ""},
		{"format_date nil", p.formatDate, []any{nil, "2006", ""}, nil, ""},
		{"format_date bad text", p.formatDate, []any{"next tuesday", "2006", ""}, nil, `format_date: "next tuesday" is not an ISO 8601 date`},
		{"format_date bad zone", p.formatDate, []any{"2026-11-27", "2006", "Mars/Olympus"}, nil, `unknown timezone "Mars/Olympus"`},
		{"format_date bool", p.formatDate, []any{true, "2006", ""}, nil, "want a time"},
		{"format_date huge number", p.formatDate, []any{1e300, "2006", ""}, nil, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fn(tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got (%v, %v), want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestRoundTo(t *testing.T) {
	tests := []struct{ n, step, want float64 }{
		{2459, 100, 2500},
		{2449, 100, 2400},
		{987, 1000, 1000},
		{499, 1000, 0},
		{-499, 1000, 0},
		{123456, 100000, 100000},
		{1.005, 0.01, 1.01},
		{0.3, 0.1, 0.3},
		{7, 5, 5},
		{7.5, 5, 10},
	}
	for _, tt := range tests {
		got, err := RoundTo(tt.n, tt.step)
		if err != nil {
			t.Fatalf("RoundTo(%v, %v): %v", tt.n, tt.step, err)
		}
		if got != tt.want || math.Signbit(got) {
			t.Errorf("RoundTo(%v, %v) = %v, want %v", tt.n, tt.step, got, tt.want)
		}
	}
	for _, bad := range [][2]float64{{1, 0}, {1, -5}, {1, math.NaN()}, {math.Inf(1), 10}, {1e308, 1e-308}} {
		if got, err := RoundTo(bad[0], bad[1]); err == nil {
			t.Errorf("RoundTo(%v, %v) = %v, want an error", bad[0], bad[1], got)
		}
	}
}

func TestFormat(t *testing.T) {
	loc := kolkata(t)
	tests := []struct {
		name   string
		in     any
		want   string
		wantOK bool
	}{
		{"nil is absent", nil, "", false},
		{"text", "Ada", "Ada", true},
		{"empty text", "", "", true},
		{"integer float", 2500.0, "2500", true},
		{"big float without exponent", 1e21, "1000000000000000000000", true},
		{"fraction without trailing zeros", 0.50, "0.5", true},
		{"negative zero", math.Copysign(0, -1), "0", true},
		{"int", 42, "42", true},
		{"int64", int64(-7), "-7", true},
		{"uint8", uint8(7), "7", true},
		{"float32", float32(0.25), "0.25", true},
		{"bool", true, "true", true},
		{"time in agent zone", time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC), "2026-11-27T09:30:00+05:30", true},
		{"duration", 90 * time.Minute, "1h30m0s", true},
		{"list as JSON", []any{"a", 1.0}, `["a",1]`, true},
		{"map as JSON", map[string]any{"k": "v"}, `{"k":"v"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := Format(tt.in, loc)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Format(%#v) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
	for _, bad := range []any{math.NaN(), math.Inf(-1), func() {}} {
		if got, _, err := Format(bad, loc); err == nil {
			t.Errorf("Format(%T) = %q, want an error", bad, got)
		}
	}
}
