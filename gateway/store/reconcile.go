package store

import "time"

// ListedRetention is how long the records reconciliation listed are kept
// for the audit, counted from their creation in the CRM.
const ListedRetention = 30 * 24 * time.Hour

// Listing names for checkpoints.
const (
	ListingCreated  = "created"
	ListingModified = "modified"
)

// ListedRecord is one record reconciliation listed, kept for the audit.
type ListedRecord struct {
	Integration string    `json:"integration"`
	ObjectType  string    `json:"object_type"`
	ObjectID    string    `json:"object_id"`
	CreatedAt   time.Time `json:"created_at"`
}

// RecentAccountScan bounds how many of the newest events RecentAccount
// reads.
const RecentAccountScan = 5000
