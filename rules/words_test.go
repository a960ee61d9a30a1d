package rules

import (
	"math"
	"strings"
	"testing"
)

func TestWords(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want string
	}{
		{"zero", 0, "zero"},
		{"negative zero", math.Copysign(0, -1), "zero"},
		{"one", 1, "one"},
		{"teen", 19, "nineteen"},
		{"round ten", 20, "twenty"},
		{"hyphenated", 21, "twenty-one"},
		{"ninety-nine", 99, "ninety-nine"},
		{"hundred", 100, "one hundred"},
		{"hundred and some", 101, "one hundred one"},
		{"thousand", 1000, "one thousand"},
		{"issue example", 2500, "two thousand five hundred"},
		{"odd thousands", 99999, "ninety-nine thousand nine hundred ninety-nine"},
		{"lakh", 100000, "one lakh"},
		{"lakh and thousands", 125000, "one lakh twenty-five thousand"},
		{"lakhs with everything", 9999999, "ninety-nine lakh ninety-nine thousand nine hundred ninety-nine"},
		{"crore", 10000000, "one crore"},
		{"crore and change", 10000001, "one crore one"},
		{"crores", 123456789, "twelve crore thirty-four lakh fifty-six thousand seven hundred eighty-nine"},
		{"hundreds of crores", 5000000000, "five hundred crore"},
		{"lakh crore", 1e12, "one lakh crore"},
		{"crore crore", 1e14, "one crore crore"},
		{"crore crore and crores", 1e14 + 2e7, "one crore crore two crore"},
		{"negative", -2500, "minus two thousand five hundred"},
		{"negative lakh", -125000, "minus one lakh twenty-five thousand"},
		{"half", 2500.5, "two thousand five hundred point five"},
		{"leading zero decimal", 12.05, "twelve point zero five"},
		{"below one", 0.75, "zero point seven five"},
		{"negative decimal", -0.5, "minus zero point five"},
		{"thousand crore", 1e10, "one thousand crore"},
		{"lakh crore and more", 1.5e12 + 1234, "one lakh fifty thousand crore one thousand two hundred thirty-four"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Words(tt.in)
			if err != nil {
				t.Fatalf("Words(%v): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Words(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWordsHuge(t *testing.T) {
	got, err := Words(math.MaxFloat64)
	if err != nil {
		t.Fatal(err)
	}
	// 309 digits: a top group of one digit above 44 groups of seven.
	want := "one" + strings.Repeat(" crore", 44) + " seventy-nine lakh seventy-six thousand nine hundred thirty-one" + strings.Repeat(" crore", 43) + " "
	if !strings.HasPrefix(got, want) {
		t.Errorf("Words(MaxFloat64) starts %q, want %q", got[:len(want)], want)
	}
}

func TestWordsFloatNoise(t *testing.T) {
	a, b := 0.1, 0.2
	got, err := Words(a + b) // 0.30000000000000004: the shortest form that reads back
	if err != nil {
		t.Fatal(err)
	}
	if want := "zero point three" + strings.Repeat(" zero", 15) + " four"; got != want {
		t.Errorf("Words(0.1+0.2) = %q, want %q", got, want)
	}
}

func TestWordsRejectsNonFinite(t *testing.T) {
	for _, in := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got, err := Words(in); err == nil {
			t.Errorf("Words(%v) = %q, want an error", in, got)
		}
	}
}
