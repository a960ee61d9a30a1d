package sdk

import (
	"errors"
	"fmt"
	"time"
)

// Class tells the host what to do about an error.
type Class string

// Error classes.
const (
	ClassInvalidSignature Class = "invalid_signature" // host answers 401
	ClassBadRequest       Class = "bad_request"       // host answers 400
	ClassAuth             Class = "auth"              // credentials rejected: event failed, replayable
	ClassNotFound         Class = "not_found"         // record missing: retried a little, then skipped
	ClassRateLimited      Class = "rate_limited"      // wait RetryAfter, then retry
	ClassTransient        Class = "transient"         // retry with backoff
	ClassPermanent        Class = "permanent"         // give up with the message
)

// Error is a plugin error with a class. Message must never contain secrets.
type Error struct {
	Class      Class
	Message    string
	RetryAfter time.Duration // for ClassRateLimited
}

func (e *Error) Error() string { return string(e.Class) + ": " + e.Message }

// ClassOf returns err's class; an error without one is transient.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return ClassTransient
}

func newError(c Class, format string, args ...any) *Error {
	return &Error{Class: c, Message: fmt.Sprintf(format, args...)}
}

// InvalidSignature, BadRequest, Auth, NotFound, Transient and Permanent
// build classed errors.
func InvalidSignature(format string, args ...any) error {
	return newError(ClassInvalidSignature, format, args...)
}
func BadRequest(format string, args ...any) error { return newError(ClassBadRequest, format, args...) }
func Auth(format string, args ...any) error       { return newError(ClassAuth, format, args...) }
func NotFound(format string, args ...any) error   { return newError(ClassNotFound, format, args...) }
func Transient(format string, args ...any) error  { return newError(ClassTransient, format, args...) }
func Permanent(format string, args ...any) error  { return newError(ClassPermanent, format, args...) }

// RateLimited builds a rate_limited error that asks to wait retryAfter.
func RateLimited(retryAfter time.Duration, format string, args ...any) error {
	e := newError(ClassRateLimited, format, args...)
	e.RetryAfter = retryAfter
	return e
}
