// Package config loads and validates callgate's HCL configuration.
package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Config is a loaded, validated configuration. Maps are keyed by block name.
type Config struct {
	File         string // the file it was loaded from ("" for built-in defaults)
	Server       Server
	Store        Store
	APIKeys      []APIKey
	Integrations map[string]*Integration
	Dialers      map[string]*Dialer
	Agents       map[string]*Agent
	Plugins      map[string]*Plugin // external plugins
}

// Server is the server block.
type Server struct {
	Listen           string   // default 127.0.0.1:8080
	PublicURL        string   // "" → http://<listen>
	DataDir          string   // default ./data
	DefaultTimezone  string   // default Asia/Kolkata
	DefaultRegion    string   // default IN
	MaxBodyBytes     int64    // default 1 MiB
	AdminTokenSHA256 []string // lower-case hex
	LogFormat        string   // text | json
	LogLevel         string   // trace|debug|info|warn|error; default info
	Notify           []string
	NotifySecret     string
	// DedupeTTL is how long inbox dedupe keys are kept (default 72h).
	DedupeTTL time.Duration
	// InboxHighWater: pending events past which webhooks get 503 (default 100000).
	InboxHighWater int
	Limits
	// OrphanGrace is how long pending events of an agent or integration
	// that left the config wait for it to come back (default 24h).
	OrphanGrace time.Duration
}

// APIKey is an api_key block.
type APIKey struct {
	Name   string
	SHA256 string   // lower-case hex
	Agents []string // empty = any agent
}

// Integration is an integration block: one CRM account.
type Integration struct {
	Name string
	Type string // plugin name; the loader sets it to Name when the block does not
	// Credentials are every other attribute of the block (access_token,
	// client_secret, base_url, …), handed to the plugin with each call.
	Credentials map[string]string
	Reconcile   *Reconcile // nil: no reconciliation
}

// Dialer is a dialer block.
type Dialer struct {
	Name           string
	Type           string // http | callkaro | log
	URL            string
	Headers        map[string]string
	Secret         string
	APIKey         string        // callkaro: X-API-KEY
	Timeout        time.Duration // default 10s
	OutcomeTimeout time.Duration // default 30m
	Concurrency    int           // default 20
	Rate           float64       // dials per second; 0 = unlimited
	RateBurst      int
}

// Agent is an agent block.
type Agent struct {
	Name              string
	Dialer            string
	Integrations      []string // integration names; empty = by type
	Timezone          string   // current IANA name, "callee" or "contact"; the loader sets server.default_timezone when unset
	Region            string   // the loader sets server.default_region when unset
	PhoneFields       []string // empty: the plugin's manifest's PhoneFields
	When              Expr     // default event.kind == 'created'
	Variables         map[string]Expr
	RequiredVariables []string
	Window            *Window
	Retry             Retry
	DedupeWindow      time.Duration // default 24h
	Writeback         bool
	// WritebackRules is the agent's writeback block (writeback.go); nil
	// without one: every ended attempt is logged with the default title
	// and body, and no follow-ups.
	WritebackRules *Writeback
	Notify         []string
}

// Expr is a rule expression with where it was written, for error messages.
type Expr struct {
	Source string
	Range  hcl.Range
	// textStart is where Source's first character sits in the file (after
	// the opening quote), so errors inside the expression can be placed.
	textStart hcl.Pos
}

// Window is an agent's window block.
type Window struct {
	Start     string // HH:MM
	End       string // HH:MM
	CarryOver bool
	Days      []string // mon..sun
}

// Retry is an agent's retry block.
type Retry struct {
	Max  int             // 0–10
	Gaps []time.Duration // the loader sets [1h] when unset
	On   []string        // the loader sets no_answer, busy, failed, voicemail when unset
}

// Plugin is an external plugin block.
type Plugin struct {
	Name   string
	Path   string
	SHA256 string
}
