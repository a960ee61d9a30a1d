package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/notify"
	"github.com/callgate/callgate/gateway/pipeline"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/rules"
	"github.com/callgate/callgate/sdk"
)

// rulesTestOptions are the flags of `rules test`.
type rulesTestOptions struct {
	Config      string
	Agent       string
	Record      string
	RecordID    string
	Integration string
	Event       string
	Now         string
	Outcome     string
}

func newRulesCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Work with agents' rules (when and variables)",
	}
	var t rulesTestOptions
	test := &cobra.Command{
		Use:   "test --agent A (--record FILE.json | --record-id ID | --outcome FILE.json) [--event FILE.json]",
		Short: "Dry-run an agent's rules on a record; no call is placed",
		Long: "Loads the config, compiles the agent's rules and runs them on the record in\n" +
			"--record (a JSON object of field → value, or a HubSpot object with \"properties\";\n" +
			"\"-\" reads stdin) for the event in --event (callgate's event JSON or a HubSpot\n" +
			"webhook; default: a creation). Prints the decision, each variable and the\n" +
			"fields the record lacks. An agent without phone_fields uses its built-in\n" +
			"plugin's (HubSpot's for an external plugin, as the output says). env()\n" +
			"variables that are not set read as a placeholder (rules never see secrets).\n" +
			"With --record-id instead of --record, the running gateway at --addr reads that\n" +
			"record through the integration's plugin (the fields the pipeline would fetch)\n" +
			"and runs its own config's rules on it: POST /api/v1/rules/test.\n" +
			"With --outcome (a status callback body as the http dialer receives it, plus\n" +
			"optional \"variables\", \"to_number\" and \"final\"), it renders the agent's\n" +
			"writeback block instead: the logged call's title, body and disposition, and\n" +
			"the follow-ups whose when holds (properties set, tasks created). Offline.\n" +
			"Exits 1 when the config or the files cannot be read.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case t.Outcome != "" && (t.Record != "" || t.RecordID != ""):
				return errors.New("--outcome tries the writeback rules on its own; run the call rules (--record) separately")
			case t.Outcome != "":
				return rulesTestOutcome(o, t, cmd.InOrStdin())
			case t.RecordID != "" && t.Record != "":
				return errors.New("give --record (a JSON file) or --record-id (a record the gateway reads from the CRM), not both")
			case t.RecordID != "":
				return rulesTestByID(cmd.Context(), o, t)
			case t.Record == "":
				return errors.New("--record FILE.json (or --record-id ID, read by the gateway at --addr) is required")
			}
			return rulesTest(o, t, cmd.InOrStdin())
		},
	}
	f := test.Flags()
	f.StringVarP(&t.Config, "config", "c", DefaultConfigFile, "config file (HCL)")
	f.StringVar(&t.Agent, "agent", "", "agent whose rules to run (required)")
	f.StringVar(&t.Record, "record", "", "record JSON file, or - for stdin")
	f.StringVar(&t.RecordID, "record-id", "", "a record id the running gateway (--addr, --token) reads from the CRM instead of --record")
	f.StringVar(&t.Integration, "integration", "", "with --record-id: the integration to read it from (default: the agent's only one)")
	f.StringVar(&t.Event, "event", "", "event JSON file (default: a creation event)")
	f.StringVar(&t.Now, "now", "", "evaluate as of this RFC 3339 time (default: the current time)")
	f.StringVar(&t.Outcome, "outcome", "", "an attempt's outcome JSON (the http dialer's callback), or -: try the agent's writeback rules")
	_ = test.MarkFlagRequired("agent")
	cmd.AddCommand(test)
	return cmd
}

// rulesTestByID asks the running gateway to read the record and dry-run
// its own config's rules on it.
func rulesTestByID(ctx context.Context, o *rootOptions, t rulesTestOptions) error {
	req := api.RulesTest{AgentID: t.Agent, RecordID: t.RecordID, Integration: t.Integration}
	if t.Event != "" {
		ev, err := os.ReadFile(t.Event)
		if err != nil {
			return fmt.Errorf("read the event: %w", err)
		}
		req.Event = ev
	}
	if t.Now != "" {
		return errors.New("--now works with --record only: the gateway runs the rules at its own time")
	}
	var rep api.RulesReport
	raw, err := newAdminClient(o).do(ctx, http.MethodPost, "/api/v1/rules/test", nil, req, &rep)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		return printJSON(o, raw)
	}
	return rep.WriteText(o.Stdout)
}

func rulesTest(o *rootOptions, t rulesTestOptions, stdin io.Reader) error {
	cfg, err := loadForRules(t.Config, o.Getenv)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w (pass the gateway's config with --config)", err)
		}
		if cerr, ok := config.AsError(err); ok {
			for _, p := range cerr.Problems() {
				fmt.Fprintln(o.Stderr, p.String())
			}
			return fmt.Errorf("%s has problems; fix them (see `%s config check %s`)", t.Config, o.self(), t.Config)
		}
		return err
	}
	ag, ok := cfg.Agents[t.Agent]
	if !ok {
		return fmt.Errorf("no agent %q in %s; agents: %s", t.Agent, t.Config, agentNames(cfg))
	}
	trial, err := readTrial(t, stdin)
	if err != nil {
		return err
	}
	out, err := tryAgentRules(cfg, ag, builtinManifest, trial)
	if err != nil {
		return fmt.Errorf("agent %q: %w", t.Agent, err)
	}
	if o.Output == "json" {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return out.WriteText(o.Stdout)
}

// unsetEnvPlaceholder stands in for env() variables that are not set when
// rules are tried: rules never read secrets, and an operator trying rules
// on a laptop should not need the production ones.
const unsetEnvPlaceholder = "unset-while-testing-rules"

// loadForRules loads the config as serve would, except that env() of an
// unset variable without a default reads unsetEnvPlaceholder instead of
// failing.
func loadForRules(path string, getenv func(string) string) (*config.Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	cfg, _, err := config.LoadWithPlaceholders(path, src, setEnv(getenv), unsetEnvPlaceholder)
	return cfg, err
}

// setEnv looks variables up with getenv; an empty one is unset.
func setEnv(getenv func(string) string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v := getenv(name)
		return v, v != ""
	}
}

// tryAgentRules runs ag's rules on the trial's record as the pipeline
// would: the agent's phone fields (else its plugin's, from manifest),
// region and timezone. An agent none of whose plugins manifest knows
// gets config.DefaultPhoneFields, and the output says so.
// trial.ContactTimezone, when empty, is taken from the record's JSON.
func tryAgentRules(cfg *config.Config, ag *config.Agent, manifest func(plugin string) (sdk.Manifest, bool), trial rules.Trial) (api.RulesReport, error) {
	out := api.RulesReport{Agent: ag.Name}
	out.PhoneFields, out.PhoneFieldsFrom = pipeline.AgentPhoneFields(cfg, ag, manifest)
	if out.PhoneFieldsFrom == "" {
		out.PhoneFields = config.DefaultPhoneFields()
		out.PhoneFieldsFrom = fmt.Sprintf("the default, HubSpot's: no manifest for plugin %s",
			listOrNone(pipeline.AgentPlugins(cfg, ag)))
	}
	out.PhoneFields = nonNilStrings(out.PhoneFields)
	trial.Call.AgentID = ag.Name
	trial.PhoneFields = out.PhoneFields
	trial.TimezoneSetting = ag.Timezone
	if trial.ContactTimezone == "" {
		trial.ContactTimezone = recordTimezone(trial.Record)
	}
	var err error
	out.Report, err = rules.Try(ag.RulesSpec(cfg.Server), trial)
	return out, err
}

// recordTimezone is the record's own zone for a dry run of a "contact"
// agent: a HubSpot record's hs_timezone, spelled as the plugin spells it
// for the pipeline; "" when the record has none.
func recordTimezone(record []byte) string {
	_, fields, err := rules.ParseRecord(record)
	if err != nil {
		return ""
	}
	v, _ := fields[hubspot.TimezoneProperty].(string)
	return hubspot.IANAZone(v)
}

// builtinManifest asks a built-in plugin for its manifest in process:
// Describe is cheap and needs no credentials, so `rules test` learns the
// plugin's phone fields without a running gateway.
func builtinManifest(name string) (sdk.Manifest, bool) {
	mk, ok := builtinPlugins()[name]
	if !ok {
		return sdk.Manifest{}, false
	}
	m, err := mk().Describe(context.Background())
	return m, err == nil
}

// rulesTester answers POST /api/v1/rules/test with the same code as
// `callgate rules test`.
type rulesTester struct {
	config   func() *config.Config
	manifest func(plugin string) (sdk.Manifest, bool)
	now      func() time.Time
	// records reads a record by id for a request with a record_id; nil:
	// such requests are refused.
	records RecordFetcher
}

// RecordFetcher reads records through an integration's plugin with its
// credentials (integrationPlugins implements it).
type RecordFetcher interface {
	FetchRecords(ctx context.Context, integration string, req sdk.FetchRequest) (sdk.FetchResult, error)
}

// newRulesTester is the api.RulesTester `serve` hands the admin API;
// manifest finds a plugin's manifest (the plugin host's Manifest),
// records reads records by id (nil: record_id is refused).
func newRulesTester(cfg func() *config.Config, manifest func(plugin string) (sdk.Manifest, bool), now func() time.Time, records RecordFetcher) api.RulesTester {
	return rulesTester{config: cfg, manifest: manifest, now: now, records: records}
}

// TestRules implements api.RulesTester; the result is the JSON of
// `rules test --output json`.
func (rt rulesTester) TestRules(ctx context.Context, req api.RulesTest) (api.RulesReport, error) {
	cfg := rt.config()
	ag, ok := cfg.Agents[req.AgentID]
	if !ok {
		return api.RulesReport{}, fmt.Errorf("no agent %q; agents: %s", req.AgentID, agentNames(cfg))
	}
	trial := rules.Trial{Record: req.Record, Now: rt.now()}
	if len(req.Event) > 0 && string(req.Event) != "null" {
		trial.Event = req.Event
	}
	var read *recordRead
	if req.RecordID != "" {
		var err error
		if read, err = rt.readRecord(ctx, cfg, ag, req); err != nil {
			return api.RulesReport{}, err
		}
		trial.Record, trial.ContactTimezone = read.json, read.record.Timezone
	}
	out, err := tryAgentRules(cfg, ag, rt.manifest, trial)
	if err != nil {
		return api.RulesReport{}, err
	}
	if read != nil {
		out.ReadFrom, out.RecordFields = "integration "+read.integration, read.fields
	}
	return out, nil
}

// recordRead is a record read by id for a dry run.
type recordRead struct {
	integration string
	record      sdk.Record
	fields      map[string]any // its non-null fields as the rules see them
	json        []byte         // {"object_id":…, "fields":{…}} for rules.Trial
}

// readRecord fetches req.RecordID as the pipeline would: through the
// integration's plugin, asking for the fields the agent's rules read and
// its phone fields.
func (rt rulesTester) readRecord(ctx context.Context, cfg *config.Config, ag *config.Agent, req api.RulesTest) (*recordRead, error) {
	if rt.records == nil {
		return nil, errors.New("record_id: reading records is not wired in this server; send the record as JSON")
	}
	ins := config.AgentIntegrations(cfg, ag)
	integration := req.Integration
	switch {
	case integration != "" && !slices.Contains(ins, integration):
		return nil, fmt.Errorf("integration: agent %q does not take events from %q; it takes them from %s", ag.Name, integration, listOrNone(ins))
	case integration == "" && len(ins) == 1:
		integration = ins[0]
	case integration == "":
		return nil, fmt.Errorf("integration: agent %q takes events from %s; say which one to read record %s from", ag.Name, listOrNone(ins), req.RecordID)
	}
	fields := config.AgentFields(cfg, ag)
	phones, _ := pipeline.AgentPhoneFields(cfg, ag, rt.manifest)
	fields = append(fields, phones...)
	slices.Sort(fields)
	fields = slices.Compact(fields)
	fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	res, err := rt.records.FetchRecords(fctx, integration, sdk.FetchRequest{IDs: []string{req.RecordID}, Fields: fields})
	if err != nil {
		return nil, fmt.Errorf("read record %s from integration %s: %w", req.RecordID, integration, err)
	}
	for _, rec := range res.Records {
		if rec.ObjectID != req.RecordID {
			continue
		}
		read := &recordRead{integration: integration, record: rec, fields: map[string]any{}}
		for k, v := range rec.Fields {
			if !v.IsNull() {
				read.fields[k] = v.Any()
			}
		}
		read.json, err = json.Marshal(map[string]any{"object_id": rec.ObjectID, "fields": read.fields})
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", req.RecordID, err)
		}
		return read, nil
	}
	return nil, sdk.NotFound("record %s: integration %s has no such record", req.RecordID, integration)
}

func readTrial(t rulesTestOptions, stdin io.Reader) (rules.Trial, error) {
	var trial rules.Trial
	var err error
	if t.Record == "-" {
		trial.Record, err = io.ReadAll(stdin)
	} else {
		trial.Record, err = os.ReadFile(t.Record)
	}
	if err != nil {
		return trial, fmt.Errorf("read the record: %w", err)
	}
	if t.Event != "" {
		if trial.Event, err = os.ReadFile(t.Event); err != nil {
			return trial, fmt.Errorf("read the event: %w", err)
		}
	}
	if t.Now != "" {
		if trial.Now, err = time.Parse(time.RFC3339, t.Now); err != nil {
			return trial, fmt.Errorf("--now: want an RFC 3339 time such as 2026-11-27T09:30:00+05:30: %w", err)
		}
	}
	return trial, nil
}

func agentNames(cfg *config.Config) string {
	names := make([]string, 0, len(cfg.Agents))
	for n := range cfg.Agents {
		names = append(names, n)
	}
	sort.Strings(names)
	return listOrNone(names)
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// outcomeTrial is the --outcome file: the http dialer's status callback,
// with what the write-back rules also read.
type outcomeTrial struct {
	dialer.HTTPCallback
	Variables map[string]string `json:"variables"`
	ToNumber  string            `json:"to_number"`
	Final     *bool             `json:"final"` // default true
}

// rulesTestOutcome renders the agent's writeback block for the outcome in
// --outcome, as delivery would log it.
func rulesTestOutcome(o *rootOptions, t rulesTestOptions, stdin io.Reader) error {
	cfg, err := loadForRules(t.Config, o.Getenv)
	if err != nil {
		if cerr, ok := config.AsError(err); ok {
			for _, p := range cerr.Problems() {
				fmt.Fprintln(o.Stderr, p.String())
			}
			return fmt.Errorf("%s has problems; fix them (see `%s config check %s`)", t.Config, o.self(), t.Config)
		}
		return err
	}
	ag, ok := cfg.Agents[t.Agent]
	if !ok {
		return fmt.Errorf("no agent %q in %s; agents: %s", t.Agent, t.Config, agentNames(cfg))
	}
	raw, err := readFileOrStdin(t.Outcome, stdin)
	if err != nil {
		return fmt.Errorf("read the outcome: %w", err)
	}
	var in outcomeTrial
	if err := json.Unmarshal(raw, &in); err != nil {
		return fmt.Errorf("%s: not an outcome JSON object: %w", t.Outcome, err)
	}
	// The callback's own checks (status, fields); a trial may leave out
	// the ids a real callback carries.
	probe := in.HTTPCallback
	probe.CallID, probe.Attempt = orDefault(probe.CallID, "trial"), max(probe.Attempt, 1)
	body, _ := json.Marshal(probe)
	out, err := dialer.ParseHTTPCallback(body)
	if err != nil {
		return fmt.Errorf("%s: %w", t.Outcome, err)
	}
	now := time.Now().UTC()
	if t.Now != "" {
		if now, err = time.Parse(time.RFC3339, t.Now); err != nil {
			return fmt.Errorf("--now %q is not an RFC 3339 time", t.Now)
		}
	}
	final := in.Final == nil || *in.Final
	ended := now
	a := store.Attempt{N: out.Attempt, StartedAt: now.Add(-time.Duration(out.DurationS * float64(time.Second))), EndedAt: &ended,
		Outcome: out.Status, Reason: out.Reason, ProviderCallID: out.ProviderCallID, DurationS: out.DurationS,
		RecordingURL: out.RecordingURL, Transcript: out.Transcript, Summary: out.Summary, Disposition: out.Disposition,
		FromNumber: out.FromNumber, Data: out.Data}
	c := store.Call{ID: out.CallID, AgentID: ag.Name, ToNumber: in.ToNumber, Variables: in.Variables, Attempts: []store.Attempt{a}}
	p := notify.PreviewWriteback(ag.WritebackRules, c, a, final, now)
	if o.Output == "json" {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	return writePreview(o.Stdout, ag, p)
}

func readFileOrStdin(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(stdin, 16<<20))
	}
	return os.ReadFile(name)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// writePreview prints a write-back preview for people.
func writePreview(w io.Writer, ag *config.Agent, p notify.WritebackPreview) error {
	var b strings.Builder
	fmt.Fprintf(&b, "write-back of agent %q (writeback %s)\n", ag.Name, map[bool]string{true: "on", false: "off"}[ag.Writeback])
	if !p.Logged {
		b.WriteString("  not logged: attempts = \"final\" and the call goes on (set \"final\": true to see the last attempt)\n")
	}
	fmt.Fprintf(&b, "  key:          %s\n  title:        %s\n", p.Key, p.Title)
	disp := p.Disposition
	if disp == "" {
		disp = "(the plugin's default for the outcome)"
	}
	fmt.Fprintf(&b, "  disposition:  %s\n  body:\n", disp)
	for _, line := range strings.Split(p.Body, "\n") {
		fmt.Fprintln(&b, strings.TrimRight("    "+line, " "))
	}
	var names []string
	if ag.WritebackRules != nil {
		for _, f := range ag.WritebackRules.FollowUps {
			names = append(names, f.Name)
		}
	}
	for _, name := range names {
		fmt.Fprintf(&b, "  follow_up %q: %s\n", name, map[bool]string{true: "yes", false: "no"}[slices.Contains(p.FollowUps, name)])
	}
	props := make([]string, 0, len(p.Properties))
	for k := range p.Properties {
		props = append(props, k)
	}
	sort.Strings(props)
	for _, k := range props {
		fmt.Fprintf(&b, "    set %s = %q\n", k, p.Properties[k])
	}
	for _, tk := range p.Tasks {
		fmt.Fprintf(&b, "    task %q due %s", tk.Title, tk.Due.Format(time.RFC3339))
		if tk.Owner != "" {
			fmt.Fprintf(&b, " owner %s", tk.Owner)
		}
		b.WriteString("\n")
	}
	for _, pr := range p.Problems {
		fmt.Fprintf(&b, "  problem: %s\n", pr)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
