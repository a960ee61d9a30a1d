package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Defaults used when the file does not say (docs/configuration.md).
const (
	DefaultListen          = "127.0.0.1:8080"
	DefaultDataDir         = "./data"
	DefaultTimezone        = "Asia/Kolkata"
	DefaultRegion          = "IN"
	DefaultMaxBodyBytes    = 1 << 20
	DefaultLogFormat       = "text"
	DefaultLogLevel        = "info"
	DefaultDedupeTTL       = 72 * time.Hour
	DefaultInboxHighWater  = 100000
	DefaultDialerTimeout   = 10 * time.Second
	DefaultOutcomeTimeout  = 30 * time.Minute
	DefaultConcurrency     = 20
	DefaultWhen            = "event.kind == 'created'"
	DefaultDedupeWindow    = 24 * time.Hour
	DefaultRetryGap        = time.Hour
	DefaultLogDialerName   = "log"
	maxProblemsInOneReport = 200
)

// DefaultPhoneFields are HubSpot's phone fields, for callers that show a
// default without asking the plugin. An agent that sets no phone_fields
// keeps PhoneFields empty: the pipeline then uses its plugin's manifest's
// PhoneFields (HubSpot declares these).
func DefaultPhoneFields() []string { return []string{"mobilephone", "phone"} }

// DefaultRetryOn are the outcomes retried when retry.on is not set.
func DefaultRetryOn() []string { return []string{"no_answer", "busy", "failed", "voicemail"} }

// Error lists every problem found in a configuration. Each diagnostic
// carries the position it was found at; Error() prints one problem per
// line as file:line:col: message.
type Error struct {
	Diags hcl.Diagnostics
}

// Problem is one configuration problem with its position.
type Problem struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"` // 1-based; 0 when the problem has no position
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

// String is file:line:col: message.
func (p Problem) String() string {
	if p.Line == 0 {
		if p.File == "" {
			return p.Message
		}
		return p.File + ": " + p.Message
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Message)
}

// Problems lists the problems in the order they appear in the file.
func (e *Error) Problems() []Problem {
	out := make([]Problem, 0, len(e.Diags))
	for _, d := range e.Diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg = strings.TrimSuffix(msg, ".") + ": " + d.Detail
		}
		p := Problem{Message: msg}
		if d.Subject != nil {
			p.File, p.Line, p.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		out = append(out, p)
	}
	return out
}

// Error lists the problems one per line, as file:line:col: message.
func (e *Error) Error() string {
	ps := e.Problems()
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Load reads, decodes and validates the HCL file at path. A file with
// problems returns an *Error listing every one of them.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return LoadBytes(path, src)
}

// LoadBytes is Load for a file already in memory; name is used in positions.
// env() reads the process environment.
func LoadBytes(name string, src []byte) (*Config, error) {
	return LoadWithEnv(name, src, osLookupEnv)
}

// LoadWithEnv is LoadBytes with env() answered by lookupEnv instead of the
// process environment (tests, and checks of a file meant for another machine).
func LoadWithEnv(name string, src []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	return newDecoder(lookupEnv).load(name, src)
}

// load parses, decodes and checks src with d.
func (d *decoder) load(name string, src []byte) (*Config, error) {
	file, diags := hclsyntax.ParseConfig(src, name, hcl.Pos{Line: 1, Column: 1, Byte: 0})
	if diags.HasErrors() {
		return nil, &Error{Diags: diags}
	}
	cfg := d.decodeFile(file.Body)
	cfg.File = name
	d.checkReferences(cfg)
	d.checkRules(cfg)
	if d.diags.HasErrors() {
		return nil, &Error{Diags: sortDiags(d.diags)}
	}
	return cfg, nil
}

// AsError returns the configuration problems in err, if it carries any.
func AsError(err error) (*Error, bool) {
	var ce *Error
	ok := errors.As(err, &ce)
	return ce, ok
}

// Default is the configuration used when there is no file: the server
// defaults, one `log` dialer, no API keys and no agents, so the server
// answers health, metrics and the dashboard but accepts no webhooks.
func Default() *Config {
	cfg := empty()
	cfg.Dialers[DefaultLogDialerName] = newDialer(DefaultLogDialerName)
	cfg.Dialers[DefaultLogDialerName].Type = "log"
	return cfg
}

func empty() *Config {
	return &Config{
		Store: Store{Backend: StoreBolt},
		Server: Server{
			Listen:          DefaultListen,
			DataDir:         DefaultDataDir,
			DefaultTimezone: DefaultTimezone,
			DefaultRegion:   DefaultRegion,
			MaxBodyBytes:    DefaultMaxBodyBytes,
			LogFormat:       DefaultLogFormat,
			LogLevel:        DefaultLogLevel,
			DedupeTTL:       DefaultDedupeTTL,
			InboxHighWater:  DefaultInboxHighWater,
			Limits:          DefaultLimits(),
			OrphanGrace:     DefaultOrphanGrace,
		},
		Integrations: map[string]*Integration{},
		Dialers:      map[string]*Dialer{},
		Agents:       map[string]*Agent{},
		Plugins:      map[string]*Plugin{},
	}
}

func newDialer(name string) *Dialer {
	return &Dialer{
		Name:           name,
		Timeout:        DefaultDialerTimeout,
		OutcomeTimeout: DefaultOutcomeTimeout,
		Concurrency:    DefaultConcurrency,
	}
}

func newAgent(name string) *Agent {
	return &Agent{
		Name:         name,
		When:         Expr{Source: DefaultWhen},
		Variables:    map[string]Expr{},
		Retry:        Retry{Gaps: []time.Duration{DefaultRetryGap}, On: DefaultRetryOn()},
		DedupeWindow: DefaultDedupeWindow,
	}
}

// decodeFile reads every top-level block, reporting duplicates.
func (d *decoder) decodeFile(body hcl.Body) *Config {
	cfg := empty()
	content, diags := body.Content(topSchema)
	d.add(diags)
	r := &refs{
		agentDialer:       map[string]hcl.Range{},
		agentIntegrations: map[string]hcl.Range{},
		agentDef:          map[string]hcl.Range{},
		apiKeyAgents:      map[string]hcl.Range{},
		apiKeySHA:         map[string]hcl.Range{},
	}
	d.refs = r
	first := map[string]hcl.Range{} // "type name" → where it was first defined
	for _, b := range content.Blocks {
		key := b.Type
		if len(b.Labels) > 0 {
			key += " " + b.Labels[0]
			if b.Labels[0] == "" {
				d.errorf(b.LabelRanges[0], "%s name must not be empty", b.Type)
				continue
			}
		}
		if at, dup := first[key]; dup {
			what := b.Type + " block"
			if len(b.Labels) > 0 {
				what = fmt.Sprintf("%s %q", b.Type, b.Labels[0])
			}
			d.errorf(b.DefRange, "duplicate %s: it is already defined at line %d", what, at.Start.Line)
			continue
		}
		first[key] = b.DefRange
		switch b.Type {
		case "server":
			d.server(b.Body, &cfg.Server)
		case "store":
			d.store(b, &cfg.Store)
		case "api_key":
			k := APIKey{Name: b.Labels[0]}
			d.apiKey(b, &k, r)
			cfg.APIKeys = append(cfg.APIKeys, k)
		case "integration":
			in := &Integration{Name: b.Labels[0], Type: b.Labels[0], Credentials: map[string]string{}}
			d.integration(b, in)
			cfg.Integrations[in.Name] = in
		case "dialer":
			dl := newDialer(b.Labels[0])
			d.dialer(b, dl)
			cfg.Dialers[dl.Name] = dl
		case "agent":
			ag := newAgent(b.Labels[0])
			r.agentDef[ag.Name] = b.DefRange
			d.agent(b, ag, r)
			cfg.Agents[ag.Name] = ag
		case "plugin":
			p := &Plugin{Name: b.Labels[0]}
			d.plugin(b, p)
			cfg.Plugins[p.Name] = p
		}
	}
	return cfg
}

// checkReferences checks names that point at other blocks, once all are read,
// and fills the defaults that depend on other blocks: this is the one place
// they are decided, so no other package re-derives them.
func (d *decoder) checkReferences(cfg *Config) {
	r := d.refs
	for _, in := range cfg.Integrations {
		if in.Type == "" {
			in.Type = in.Name
		}
	}
	for _, name := range sortedKeys(cfg.Agents) {
		ag := cfg.Agents[name]
		if ag.Timezone == "" {
			ag.Timezone = cfg.Server.DefaultTimezone
		}
		if ag.Region == "" {
			ag.Region = cfg.Server.DefaultRegion
		}
		if len(ag.Retry.Gaps) == 0 {
			ag.Retry.Gaps = []time.Duration{DefaultRetryGap}
		}
		if len(ag.Retry.On) == 0 {
			ag.Retry.On = DefaultRetryOn()
		}
		switch rng, set := r.agentDialer[name]; {
		case set && cfg.Dialers[ag.Dialer] == nil:
			d.errorf(rng, "agent %q names dialer %q, which is not defined (defined: %s)", name, ag.Dialer, listOrNone(sortedKeys(cfg.Dialers)))
		case !set && len(cfg.Dialers) == 1:
			ag.Dialer = sortedKeys(cfg.Dialers)[0]
		case !set:
			d.errorf(r.agentDef[name], "agent %q needs dialer = \"…\" naming one of the dialer blocks (defined: %s)", name, listOrNone(sortedKeys(cfg.Dialers)))
		}
		for _, in := range ag.Integrations {
			if cfg.Integrations[in] == nil {
				d.errorf(r.agentIntegrations[name], "agent %q names integration %q, which is not defined (defined: %s)", name, in, listOrNone(sortedKeys(cfg.Integrations)))
			}
		}
	}
	seenSHA := map[string]string{}
	for _, k := range cfg.APIKeys {
		for _, a := range k.Agents {
			if cfg.Agents[a] == nil {
				d.errorf(r.apiKeyAgents[k.Name], "api_key %q names agent %q, which is not defined (defined: %s)", k.Name, a, listOrNone(sortedKeys(cfg.Agents)))
			}
		}
		if k.SHA256 == "" {
			continue
		}
		if other, dup := seenSHA[k.SHA256]; dup {
			d.errorf(r.apiKeySHA[k.Name], "api_key %q has the same sha256 as api_key %q: give each key its own secret", k.Name, other)
			continue
		}
		seenSHA[k.SHA256] = k.Name
	}
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// sortDiags orders problems by position so they read top to bottom.
func sortDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	out := append(hcl.Diagnostics(nil), diags...)
	slices.SortStableFunc(out, func(a, b *hcl.Diagnostic) int {
		switch {
		case a.Subject == nil || b.Subject == nil:
			return 0
		case a.Subject.Filename != b.Subject.Filename:
			return strings.Compare(a.Subject.Filename, b.Subject.Filename)
		}
		return a.Subject.Start.Byte - b.Subject.Start.Byte
	})
	if len(out) > maxProblemsInOneReport {
		out = out[:maxProblemsInOneReport]
	}
	return out
}

// BaseURL is the URL the outside world reaches this gateway at: public_url
// when set, else http://<listen> (an unspecified host becomes 127.0.0.1).
// Status callback URLs and signature checks start from it.
func (s Server) BaseURL() string {
	if s.PublicURL != "" {
		return s.PublicURL
	}
	host, port, err := net.SplitHostPort(s.Listen)
	if err != nil {
		return "http://" + s.Listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
