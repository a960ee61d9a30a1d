package callee

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// maxPhoneLen bounds the text read as a phone number; nothing longer is one.
const maxPhoneLen = 64

// Normalize reads raw as a phone number and returns it in E.164. A number
// written without its +country is read in region (ISO 3166 code such as
// "IN"); 00 before the country code reads as +. The error says what is
// wrong with raw and how to write it.
func Normalize(raw, region string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("is empty; give a phone number such as +919812345678")
	}
	if len(s) > maxPhoneLen {
		return "", fmt.Errorf("is %d characters long, not a phone number", len(s))
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	region = strings.ToUpper(strings.TrimSpace(region))
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", fmt.Errorf("%q is not a phone number (%v); write it with its +country code", raw, err)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%q is not a valid phone number in region %s; write it with its +country code", raw, region)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}
