package store

import "time"

// DNDEntry is one number on the do-not-disturb list.
type DNDEntry struct {
	Number  string    `json:"number"` // E.164
	Note    string    `json:"note,omitempty"`
	AddedAt time.Time `json:"added_at"`
}
