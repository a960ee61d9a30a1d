package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

var ones = [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
	"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}

var tens = [...]string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}

// Words spells n in English with Indian numbering (thousand, lakh, crore),
// as voice agents in India read amounts: 125000 → "one lakh twenty-five
// thousand". Amounts of a crore crore and more repeat "crore" (10^14 is
// "one crore crore", 10^12 "one lakh crore"). Negative numbers start with "minus"; decimals are
// read digit by digit after "point" (2.05 → "two point zero five"), using
// the shortest decimal form of n. NaN and infinities are errors.
func Words(n float64) (string, error) {
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return "", fmt.Errorf("words: %v is not a finite number", n)
	}
	s := strconv.FormatFloat(math.Abs(n), 'f', -1, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	b.Grow(64)
	if n < 0 {
		b.WriteString("minus ")
	}
	writeIndian(&b, strings.TrimLeft(intPart, "0"))
	if frac != "" {
		b.WriteString(" point")
		for _, d := range frac {
			b.WriteByte(' ')
			b.WriteString(ones[d-'0'])
		}
	}
	return b.String(), nil
}

// writeIndian writes a string of decimal digits (no leading zeros; "" is
// zero) in words.
func writeIndian(b *strings.Builder, digits string) {
	if digits == "" {
		b.WriteString("zero")
		return
	}
	writeGroups(b, digits, "")
}

// writeGroups writes digits in groups of seven (below a crore), each group
// followed by suffix; the digits above the lowest group are written the
// same way with one more "crore", so 10^14+2·10^7 is "one crore crore two
// crore", never the ambiguous "one crore two crore".
func writeGroups(b *strings.Builder, digits, suffix string) {
	low := digits
	if len(digits) > 7 {
		writeGroups(b, digits[:len(digits)-7], " crore"+suffix)
		low = digits[len(digits)-7:]
	}
	v, _ := strconv.Atoi(low) // at most 7 digits
	if v == 0 {
		return
	}
	sep := ""
	if s := b.String(); s != "" && s[len(s)-1] != ' ' { // after a higher group, not after "minus "
		sep = " "
	}
	word := func(n int, unit string) {
		b.WriteString(sep)
		writeBelow100(b, n)
		b.WriteString(unit)
		sep = " "
	}
	if lakh := v / 100000; lakh > 0 {
		word(lakh, " lakh")
	}
	if th := v / 1000 % 100; th > 0 {
		word(th, " thousand")
	}
	if h := v / 100 % 10; h > 0 {
		word(h, " hundred")
	}
	if r := v % 100; r > 0 {
		word(r, "")
	}
	b.WriteString(suffix)
}

// writeBelow100 writes 0 ≤ n < 100 in words: 25 → "twenty-five".
func writeBelow100(b *strings.Builder, n int) {
	switch {
	case n < 20:
		b.WriteString(ones[n])
	case n%10 == 0:
		b.WriteString(tens[n/10])
	default:
		b.WriteString(tens[n/10])
		b.WriteByte('-')
		b.WriteString(ones[n%10])
	}
}
