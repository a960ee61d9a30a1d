package scheduler

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// DefaultGap is the wait before a retry when the policy lists no gaps.
const DefaultGap = time.Hour

// DefaultRetryOn are the outcomes retried when the policy lists none.
var DefaultRetryOn = []string{store.OutcomeNoAnswer, store.OutcomeBusy, store.OutcomeFailed, store.OutcomeVoicemail}

// Gap returns the wait before retry i (1 = the retry after the first
// attempt): gaps[i-1], the last gap repeating when there are fewer gaps
// than retries.
func Gap(r store.RetryPolicy, i int) time.Duration {
	if len(r.Gaps) == 0 {
		return DefaultGap
	}
	if i < 1 {
		i = 1
	}
	if i > len(r.Gaps) {
		i = len(r.Gaps)
	}
	return time.Duration(r.Gaps[i-1])
}

// Retries reports whether an attempt that ended with outcome may be retried.
func Retries(r store.RetryPolicy, outcome string) bool {
	on := r.On
	if len(on) == 0 {
		on = DefaultRetryOn
	}
	return slices.Contains(on, outcome)
}

// Next decides what follows attempt n (1-based) that ended with outcome at
// ended: the earliest time for the retry, unclamped by the window, or
// ok=false when the call is over (connected, canceled, not retryable, or
// out of retries).
func Next(r store.RetryPolicy, n int, outcome string, ended time.Time) (time.Time, bool) {
	if outcome == store.OutcomeCompleted || outcome == store.OutcomeCanceled {
		return time.Time{}, false
	}
	if !Retries(r, outcome) || n > r.Max {
		return time.Time{}, false
	}
	return ended.Add(Gap(r, n)), true
}

// FailedReason explains why a call with these attempts ended failed.
func FailedReason(r store.RetryPolicy, attempts []store.Attempt) string {
	if len(attempts) == 0 {
		return "no attempt was made"
	}
	last := attempts[len(attempts)-1]
	var outcomes []string
	for _, a := range attempts {
		o := a.Outcome
		if a.Reason != "" {
			o += " (" + a.Reason + ")"
		}
		outcomes = append(outcomes, o)
	}
	if !Retries(r, last.Outcome) {
		on := r.On
		if len(on) == 0 {
			on = DefaultRetryOn
		}
		return fmt.Sprintf("attempt %d ended %s, which is not retried (retry.on: %s); outcomes: %s",
			last.N, last.Outcome, strings.Join(on, ", "), strings.Join(outcomes, ", "))
	}
	return fmt.Sprintf("not reached after %d attempt(s) (%d retries allowed): %s", len(attempts), r.Max, strings.Join(outcomes, ", "))
}

// DefaultBackoff is the first wait after a dial could not reach the platform.
const DefaultBackoff = 5 * time.Second

// TransportBackoff is the wait before re-sending an attempt after n dial
// tries in a row could not reach the voice platform: base (DefaultBackoff
// if zero) doubling to at most 10 minutes.
func TransportBackoff(base time.Duration, n int) time.Duration {
	d := base
	if d <= 0 {
		d = DefaultBackoff
	}
	for i := 1; i < n && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}
