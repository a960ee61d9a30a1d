// Package sdk is what a callgate CRM plugin author imports: the CRM
// interface, its plain Go types, typed errors, and Serve, the one line of a
// plugin's main. The gRPC protocol (sdk/proto) stays behind these types.
package sdk

import (
	"context"
	"time"
)

// ProtocolVersion is the plugin protocol this SDK speaks (go-plugin's
// VersionedPlugins key).
const ProtocolVersion = 1

// CRM is implemented by every plugin. Credentials travel with each call:
// a plugin keeps no tenant state between calls (caches keyed by credential
// are fine).
type CRM interface {
	// Describe returns the plugin's manifest.
	Describe(ctx context.Context) (Manifest, error)
	// HandleWebhook verifies a webhook request and parses it into events.
	HandleWebhook(ctx context.Context, req WebhookRequest) (WebhookResult, error)
	// FetchRecords reads up to 100 records by id.
	FetchRecords(ctx context.Context, req FetchRequest) (FetchResult, error)
	// UpdateRecord writes fields back to a record (capability "writeback").
	UpdateRecord(ctx context.Context, req UpdateRequest) error
	// ListFields lists the fields an object type has.
	ListFields(ctx context.Context, creds Credentials, objectType string) ([]Field, error)
	// CheckCredentials makes a cheap authenticated call.
	CheckCredentials(ctx context.Context, creds Credentials) error
	// ListRecords lists the records created (or modified) in a time
	// range, a page at a time (capability "reconcile"): the host finds
	// the leads whose webhooks never arrived.
	ListRecords(ctx context.Context, req ListRequest) (ListResult, error)
}

// Capabilities a plugin may declare in its Manifest.
const (
	CapabilityWriteback  = "writeback"   // UpdateRecord is implemented
	CapabilityListFields = "list_fields" // ListFields is implemented
	CapabilityFetch      = "fetch"       // FetchRecords reads from the CRM's API
	CapabilityInline     = "inline"      // webhook events carry their record inline
	CapabilityReconcile  = "reconcile"   // ListRecords is implemented
	// CapabilityLogCall (calllog.go): the plugin is a CallLogger.
)

// Manifest describes a plugin.
type Manifest struct {
	Name             string
	Version          string
	ProtocolVersion  int
	DisplayName      string
	EventTypes       []string
	CredentialFields []CredentialField
	Capabilities     []string
	// ContentTypes are the media types HandleWebhook parses (e.g.
	// "application/json", "application/x-www-form-urlencoded"), without
	// parameters. The gateway answers 415 naming them to a webhook of any
	// other type and never calls the plugin for it. Empty means
	// "application/json" only. A request with no Content-Type is always
	// handed to the plugin.
	ContentTypes []string
	// PhoneFields are the record fields tried for the number to call, in
	// order, when an agent does not set phone_fields (e.g. HubSpot's
	// "mobilephone", "phone"). Empty: only the record's Phones are tried.
	PhoneFields []string
}

// DefaultContentType is what a plugin accepts when its Manifest lists no
// ContentTypes.
const DefaultContentType = "application/json"

// CredentialField names one credential a plugin needs (e.g. access_token).
// Secret fields are never logged or echoed in errors.
type CredentialField struct {
	Name        string
	Description string
	Secret      bool
	Required    bool
}

// Credentials are the integration's settings from the config (access_token,
// client_secret, base_url, …), keyed by CredentialField.Name.
type Credentials map[string]string

// WebhookRequest is one HTTP request as the CRM sent it.
type WebhookRequest struct {
	Method string
	// URL is the full URL the CRM called, as it signed it: the gateway's
	// public_url plus the raw path and query as received. It may carry
	// the gateway's API key (?x_api_key=…), which CRMs such as HubSpot
	// sign with the rest of the URL: a plugin must never log it, echo it
	// in an error, or send it anywhere.
	URL string
	// Headers are the request's headers minus the gateway's own
	// credentials: X-API-KEY, Authorization and Cookie are removed before
	// the plugin sees them.
	Headers     map[string][]string
	Body        []byte
	Credentials Credentials
	ReceivedAt  time.Time
}

// WebhookResult is what a plugin found in a webhook.
type WebhookResult struct {
	Events []Event
}

// Event kinds.
const (
	KindCreated  = "created"
	KindUpdated  = "updated"
	KindDeleted  = "deleted"
	KindMerged   = "merged"
	KindRestored = "restored"
	KindOther    = "other"
	// KindErased is a deletion that is also a request to erase the
	// person's data (GDPR; HubSpot's contact.privacyDeletion): the host
	// cancels the record's pending calls and erases what it holds about
	// the person, keeping ids, statuses and times for the audit.
	KindErased = "erased"
)

// Event is one CRM event, as parsed by the plugin.
type Event struct {
	Key        string    // dedupe key: equal for redeliveries of one event
	Type       string    // raw type, e.g. contact.creation
	Kind       string    // one of the Kind* constants
	ObjectType string    // e.g. contact
	ObjectID   string    // the CRM's id of the record
	OccurredAt time.Time // when the CRM says it happened
	Property   string    // for property changes
	Value      string    // for property changes: the new value
	Account    string    // CRM account / portal id
	// Record is set when the webhook carries the record inline
	// (e.g. LeadSquared); the host then need not fetch it.
	Record *Record
	// ChangeSource and SourceID say what made the change, as the CRM
	// names it (HubSpot: CRM_UI, IMPORT, FORM, INTEGRATION, …); rules read
	// them as event.change_source and event.source_id.
	ChangeSource string
	SourceID     string
	// RelatedObjectType and RelatedObjectID name the other side of an
	// association change (a contact associated to a company).
	RelatedObjectType string
	RelatedObjectID   string
	// Problem is set when the plugin could not use this event (a type it
	// does not know, no object id, a malformed field). The host keeps the
	// event as failed with Problem as its reason (ignored when Type,
	// ObjectType and ObjectID are still set: a type nobody acts on) and
	// accepts the rest of the batch: a CRM that is refused one event
	// retries all of them.
	Problem string
}

// FetchRequest asks for records by id.
type FetchRequest struct {
	Credentials Credentials
	ObjectType  string
	IDs         []string // at most 100
	Fields      []string // exactly the fields the rules reference; empty means the plugin's defaults
}

// FetchResult holds the records found and the ids that were not.
type FetchResult struct {
	Records []Record
	Missing []string
}

// Record is one CRM record with typed field values.
type Record struct {
	ObjectID string
	Fields   map[string]Value
	// Phones are candidate phone numbers in the plugin's order of preference.
	Phones []string
	// Timezone is the record's own IANA zone when the CRM keeps one
	// (HubSpot's hs_timezone), for agents with timezone = "contact".
	Timezone string
}

// UpdateRequest writes fields to one record.
type UpdateRequest struct {
	Credentials Credentials
	ObjectType  string
	ObjectID    string
	Fields      map[string]Value
}

// ListRequest asks for the records created (or, with Modified, last
// changed) in [Since, Until), oldest first, one page at a time. A plugin
// keeps within the CRM's rate limits and result caps itself (HubSpot's
// search stops at 10,000 results: the cursor then restarts the range
// after the last record seen).
type ListRequest struct {
	Credentials  Credentials
	ObjectType   string
	Since, Until time.Time
	Modified     bool   // by last modification instead of creation
	Cursor       string // the previous page's Next; "" for the first page
	Limit        int    // records per page, at most 100; 0: the plugin's default
}

// ListResult is one page of ListRecords.
type ListResult struct {
	Records []ListedRecord
	Next    string // "" when the range is exhausted
}

// ListedRecord is one record a listing found; the host reads it with
// FetchRecords when it has no event for it.
type ListedRecord struct {
	ObjectID   string
	CreatedAt  time.Time
	ModifiedAt time.Time
}

// Field describes one field of an object type.
type Field struct {
	Name  string
	Label string
	Type  ValueType
	// Options are the values an enumeration (select) field takes, in
	// the CRM's order; empty for other fields.
	Options []FieldOption
}

// FieldOption is one value of an enumeration field: Value is what the
// record holds and rules compare against, Label what people see.
type FieldOption struct {
	Value string
	Label string
}
