package rules

import "time"

// Env is what a rule sees when it is evaluated for one record. In
// expressions the fields are named contact, event, call and now.
type Env struct {
	// Contact holds the record's typed CRM fields: string, float64, bool or
	// time.Time. A field the record lacks is a missing key (nil in rules).
	Contact map[string]any `expr:"contact"`
	Event   Event          `expr:"event"`
	Call    Call           `expr:"call"`
	// Now is the evaluation time; Evaluate shows it in the call's timezone.
	// The zero time means time.Now().
	Now time.Time `expr:"now"`
}

// Event is the CRM event being handled, as rules see it (event.kind, …).
type Event struct {
	Type       string    `expr:"type" json:"type,omitempty"`               // raw type, e.g. contact.creation
	Kind       string    `expr:"kind" json:"kind"`                         // created|updated|deleted|merged|restored|other
	ObjectType string    `expr:"object_type" json:"object_type,omitempty"` // e.g. contact
	ObjectID   string    `expr:"object_id" json:"object_id,omitempty"`
	Property   string    `expr:"property" json:"property,omitempty"` // for property changes
	Value      string    `expr:"value" json:"value,omitempty"`       // for property changes: the new value
	Account    string    `expr:"account" json:"account,omitempty"`   // CRM account / portal id
	OccurredAt time.Time `expr:"occurred_at" json:"occurred_at,omitzero"`
	// ChangeSource and SourceID say what made the change, as the CRM names
	// it (HubSpot: CRM_UI, IMPORT, FORM, INTEGRATION, API, …; userId:123).
	ChangeSource string `expr:"change_source" json:"change_source,omitempty"`
	SourceID     string `expr:"source_id" json:"source_id,omitempty"`
	// RelatedObjectType and RelatedObjectID name an association's other
	// side (a contact associated to a company: "company", its id).
	RelatedObjectType string `expr:"related_object_type" json:"related_object_type,omitempty"`
	RelatedObjectID   string `expr:"related_object_id" json:"related_object_id,omitempty"`
}

// Call describes the call the rules may place (call.agent_id, …).
type Call struct {
	AgentID  string `expr:"agent_id" json:"agent_id"`
	ToNumber string `expr:"to_number" json:"to_number"` // E.164, or "" when none was found
	Timezone string `expr:"timezone" json:"timezone"`   // IANA name; "" → the agent's timezone
}

// Result is what the rules decided for one record.
type Result struct {
	Call   bool   // the when rule's answer
	Reason string // why not, human readable, naming the rule; "" when Call
	// Variables maps each variable to its value; variables that came out
	// nil are absent. Variables are evaluated only when Call is true.
	Variables map[string]string
	// MissingFields are contact fields the rules reference that the record
	// lacks (missing key or nil value), sorted.
	MissingFields []string
	// MissingRequired are required variables that came out nil or empty.
	MissingRequired []string
	// VariableErrors maps a variable's name to its runtime error.
	VariableErrors map[string]string
}
