package scheduler

import (
	"context"
	"errors"
	"fmt"

	"github.com/callgate/callgate/gateway/store"
)

// Canceled counts the calls a CancelContact or Erase ended. Dialing are
// those whose attempt was in flight: it finishes at the platform and its
// outcome is still recorded, but no retry follows.
type Canceled struct {
	Calls   int `json:"calls"`
	Dialing int `json:"dialing"`
}

// CancelContact cancels every call of the CRM record f names that has not
// ended (scheduled, retry_scheduled, dialing), for every agent: the record
// is gone for all of them. Each goes through Cancel, so notifications and
// metrics are the same as an operator's cancel.
func (s *Scheduler) CancelContact(ctx context.Context, f store.SourceFilter, reason string) (Canceled, error) {
	calls, err := s.db.SourceCalls(ctx, f)
	if err != nil {
		return Canceled{}, fmt.Errorf("scheduler: find the calls of %s %s: %w", f.Type, f.ObjectID, err)
	}
	return s.cancelAll(ctx, calls, reason)
}

func (s *Scheduler) cancelAll(ctx context.Context, calls []store.Call, reason string) (Canceled, error) {
	var n Canceled
	for _, c := range calls {
		if store.Final(c.Status) {
			continue
		}
		got, err := s.Cancel(ctx, c.ID, reason)
		if errors.Is(err, ErrFinal) {
			continue // it ended meanwhile
		}
		if err != nil {
			return n, err
		}
		n.Calls++
		if c.Status == store.CallDialing && len(got.Attempts) > 0 && got.Attempts[len(got.Attempts)-1].Outcome == "" {
			n.Dialing++
		}
	}
	return n, nil
}

// Erasure names a person whose data Erase removes: a CRM record, a number
// (E.164), or both.
type Erasure struct {
	Contact *store.SourceFilter
	Number  string
	// Reason is the canceled calls' reason (default "the person's data
	// was erased").
	Reason string
	// KeepEvent is the inbox event asking for the erasure, settled by its
	// caller (see store.EraseRequest).
	KeepEvent string
}

// Erased is what Erase did.
type Erased struct {
	Canceled Canceled          `json:"canceled"`
	Erased   store.EraseReport `json:"erased"`
}

// Erase is the one erasure path, for a CRM's privacy deletion and an
// operator's `callgate contacts erase` alike: it cancels the person's
// calls that have not ended (the record's, and every call to its numbers
// or to Number, any agent), then erases what the store holds about them
// (store.Erase): the cancellation notifications are erased with the rest.
func (s *Scheduler) Erase(ctx context.Context, e Erasure) (Erased, error) {
	if e.Contact == nil && e.Number == "" {
		return Erased{}, errors.New("scheduler: erase: name a contact or a number")
	}
	if e.Reason == "" {
		e.Reason = "the person's data was erased"
	}
	var calls []store.Call
	var numbers []string
	addNumber := func(n string) {
		for _, m := range numbers {
			if m == n {
				return
			}
		}
		numbers = append(numbers, n)
	}
	if e.Number != "" {
		addNumber(e.Number)
	}
	if e.Contact != nil {
		cs, err := s.db.SourceCalls(ctx, *e.Contact)
		if err != nil {
			return Erased{}, fmt.Errorf("scheduler: erase: find the calls of %s %s: %w", e.Contact.Type, e.Contact.ObjectID, err)
		}
		calls = append(calls, cs...)
		for _, c := range cs {
			if c.ToNumber != "" && c.ToNumber != store.Erased {
				addNumber(c.ToNumber)
			}
		}
	}
	for _, n := range numbers {
		cs, err := s.db.ActiveCalls(ctx, "", n)
		if err != nil {
			return Erased{}, fmt.Errorf("scheduler: erase: find the calls to a number: %w", err)
		}
		calls = append(calls, cs...)
	}
	var out Erased
	var err error
	if out.Canceled, err = s.cancelAll(ctx, calls, e.Reason); err != nil {
		return out, fmt.Errorf("scheduler: erase: %w", err)
	}
	out.Erased, err = s.db.Erase(ctx, store.EraseRequest{Contact: e.Contact, Numbers: numbers, KeepEvent: e.KeepEvent, Now: s.clock.Now()})
	if err != nil {
		return out, fmt.Errorf("scheduler: %w", err)
	}
	s.log.Info("personal data erased", "canceled", out.Canceled.Calls, "calls", out.Erased.Calls, "events", out.Erased.Events,
		"outbox", out.Erased.Outbox, "dead_letters", out.Erased.DeadLetters)
	return out, nil
}
