package store

import "errors"

// ErrNotFound is returned when an event, call or other item does not exist.
var ErrNotFound = errors.New("not found")

// ErrNoChange is returned by a MutateCall function that decided to leave
// the call alone.
var ErrNoChange = errors.New("no change")

// ErrNotReplayable is returned by ReplayEvent for an event that is pending
// or already became a call.
var ErrNotReplayable = errors.New("not replayable")

// ErrBadCursor is returned for a cursor ListCalls did not hand out.
var ErrBadCursor = errors.New("invalid cursor: pass next_cursor from the previous page unchanged")
