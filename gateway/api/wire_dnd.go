package api

import (
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// DNDList is the body of GET /api/v1/dnd.
type DNDList struct {
	Numbers []DNDEntry `json:"numbers"`
}

// DNDEntry is one number on the do-not-disturb list.
type DNDEntry struct {
	Number  string    `json:"number"`
	Note    string    `json:"note,omitempty"`
	AddedAt time.Time `json:"added_at"`
}

// NewDNDEntries converts the DND list, never nil.
func NewDNDEntries(list []store.DNDEntry) []DNDEntry {
	out := make([]DNDEntry, len(list))
	for i, e := range list {
		out[i] = DNDEntry{Number: e.Number, Note: e.Note, AddedAt: e.AddedAt}
	}
	return out
}
