package sdk

import (
	"strconv"
	"time"
)

// ValueType is the type of a record field's value.
type ValueType int

// Value types. Null means the CRM holds no value.
const (
	TypeNull ValueType = iota
	TypeString
	TypeNumber
	TypeBool
	TypeTime
)

// Value is a typed field value. The zero Value is null.
type Value struct {
	Type   ValueType
	String string
	Number float64
	Bool   bool
	Time   time.Time
}

// String, Number, Bool and Time build values.
func StringValue(s string) Value  { return Value{Type: TypeString, String: s} }
func NumberValue(n float64) Value { return Value{Type: TypeNumber, Number: n} }
func BoolValue(b bool) Value      { return Value{Type: TypeBool, Bool: b} }
func TimeValue(t time.Time) Value { return Value{Type: TypeTime, Time: t} }
func (v Value) IsNull() bool      { return v.Type == TypeNull }

// Text returns a string value as is and a number written plainly (no
// exponent, no trailing zeros: 9876543210, 2.5); other types give "". It is
// how ids and phone numbers that a CRM may send as numbers are read.
func (v Value) Text() string {
	switch v.Type {
	case TypeString:
		return v.String
	case TypeNumber:
		return strconv.FormatFloat(v.Number, 'f', -1, 64)
	}
	return ""
}

// Any returns the value as a plain Go value: string, float64, bool,
// time.Time, or nil for null.
func (v Value) Any() any {
	switch v.Type {
	case TypeString:
		return v.String
	case TypeNumber:
		return v.Number
	case TypeBool:
		return v.Bool
	case TypeTime:
		return v.Time
	}
	return nil
}
