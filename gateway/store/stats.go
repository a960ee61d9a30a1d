package store

import (
	"errors"
	"fmt"
	"time"
)

// PeriodStats sums up the calls created in one period [Start, End).
type PeriodStats struct {
	Start, End time.Time
	Calls      int            // calls created in the period
	ByStatus   map[string]int // their current statuses
	// Ended counts the calls with at least one attempt that ended;
	// Completed those of them whose status is completed. Their ratio is
	// the connect rate.
	Ended, Completed int
	// Timed counts the ended attempts that report a duration, and TalkS
	// sums their duration_s: TalkS/Timed is the average duration.
	Timed int
	TalkS float64
}

// StatsCall is the part of a stored call the statistics read; decoding
// only these fields keeps a scan cheap.
type StatsCall struct {
	Status   string `json:"status"`
	Attempts []struct {
		EndedAt   *time.Time `json:"ended_at"`
		DurationS float64    `json:"duration_s"`
	} `json:"attempts"`
}

// NewPeriods returns the empty PeriodStats between consecutive bounds
// (ascending, at least two), for CallStats to fill.
func NewPeriods(bounds []time.Time) ([]PeriodStats, error) {
	if len(bounds) < 2 {
		return nil, errors.New("store: call stats: need at least two bounds")
	}
	out := make([]PeriodStats, len(bounds)-1)
	for i, b := range bounds {
		if i > 0 && !b.After(bounds[i-1]) {
			return nil, fmt.Errorf("store: call stats: bound %d (%s) is not after the one before", i, b.Format(time.RFC3339))
		}
		if i > 0 {
			out[i-1] = PeriodStats{Start: bounds[i-1], End: b, ByStatus: map[string]int{}}
		}
	}
	return out, nil
}

// Add counts one call created in the period.
func (ps *PeriodStats) Add(c StatsCall) {
	ps.Calls++
	ps.ByStatus[c.Status]++
	ended := false
	for _, a := range c.Attempts {
		if a.EndedAt == nil {
			continue
		}
		ended = true
		if a.DurationS > 0 {
			ps.Timed++
			ps.TalkS += a.DurationS
		}
	}
	if ended {
		ps.Ended++
		if c.Status == CallCompleted {
			ps.Completed++
		}
	}
}
