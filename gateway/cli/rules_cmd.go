package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/pipeline"
	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/rules"
	"github.com/callgate/callgate/sdk"
)

// rulesTestOptions are the flags of `rules test`.
type rulesTestOptions struct {
	Config string
	Agent  string
	Record string
	Event  string
	Now    string
}

func newRulesCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Work with agents' rules (when and variables)",
	}
	var t rulesTestOptions
	test := &cobra.Command{
		Use:   "test --agent A --record FILE.json [--event FILE.json]",
		Short: "Dry-run an agent's rules on a record; no call is placed",
		Long: "Loads the config, compiles the agent's rules and runs them on the record in\n" +
			"--record (a JSON object of field → value, or a HubSpot object with \"properties\";\n" +
			"\"-\" reads stdin) for the event in --event (callgate's event JSON or a HubSpot\n" +
			"webhook; default: a creation). Prints the decision, each variable and the\n" +
			"fields the record lacks. An agent without phone_fields uses its built-in\n" +
			"plugin's (HubSpot's for an external plugin, as the output says). env()\n" +
			"variables that are not set read as a placeholder (rules never see secrets).\n" +
			"Exits 1 when the config or the files cannot be read.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return rulesTest(o, t, cmd.InOrStdin())
		},
	}
	f := test.Flags()
	f.StringVarP(&t.Config, "config", "c", DefaultConfigFile, "config file (HCL)")
	f.StringVar(&t.Agent, "agent", "", "agent whose rules to run (required)")
	f.StringVar(&t.Record, "record", "", "record JSON file, or - for stdin (required)")
	f.StringVar(&t.Event, "event", "", "event JSON file (default: a creation event)")
	f.StringVar(&t.Now, "now", "", "evaluate as of this RFC 3339 time (default: the current time)")
	_ = test.MarkFlagRequired("agent")
	_ = test.MarkFlagRequired("record")
	cmd.AddCommand(test)
	return cmd
}

// rulesTestOutput is `rules test --output json`.
type rulesTestOutput struct {
	Agent           string   `json:"agent"`
	PhoneFields     []string `json:"phone_fields"`      // the fields tried for the number
	PhoneFieldsFrom string   `json:"phone_fields_from"` // "agent", "plugin NAME" or why the default
	rules.Report
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
	return printReport(o.Stdout, out)
}

// unsetEnvPlaceholder stands in for env() variables that are not set when
// rules are tried: rules never read secrets, and an operator trying rules
// on a laptop should not need the production ones.
const unsetEnvPlaceholder = "unset-while-testing-rules"

// loadForRules loads the config as serve would, except that env() of an
// unset variable reads unsetEnvPlaceholder instead of failing.
func loadForRules(path string, getenv func(string) string) (*config.Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return config.LoadWithEnv(path, src, func(name string) (string, bool) {
		if v := getenv(name); v != "" {
			return v, true
		}
		return unsetEnvPlaceholder, true
	})
}

// tryAgentRules runs ag's rules on the trial's record as the pipeline
// would: the agent's phone fields (else its plugin's, from manifest),
// region and timezone. An agent none of whose plugins manifest knows
// gets config.DefaultPhoneFields, and the output says so.
func tryAgentRules(cfg *config.Config, ag *config.Agent, manifest func(plugin string) (sdk.Manifest, bool), trial rules.Trial) (rulesTestOutput, error) {
	out := rulesTestOutput{Agent: ag.Name}
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
	trial.ContactTimezone = recordTimezone(trial.Record)
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
}

// newRulesTester is the api.RulesTester `serve` hands the admin API;
// manifest finds a plugin's manifest (the plugin host's Manifest).
func newRulesTester(cfg func() *config.Config, manifest func(plugin string) (sdk.Manifest, bool), now func() time.Time) api.RulesTester {
	return rulesTester{config: cfg, manifest: manifest, now: now}
}

// TestRules implements api.RulesTester; the result is the JSON of
// `rules test --output json`.
func (rt rulesTester) TestRules(_ context.Context, req api.RulesTest) (any, error) {
	cfg := rt.config()
	ag, ok := cfg.Agents[req.AgentID]
	if !ok {
		return nil, fmt.Errorf("no agent %q; agents: %s", req.AgentID, agentNames(cfg))
	}
	trial := rules.Trial{Record: req.Record, Now: rt.now()}
	if string(req.Event) != "null" {
		trial.Event = req.Event
	}
	out, err := tryAgentRules(cfg, ag, rt.manifest, trial)
	if err != nil {
		return nil, err
	}
	return out, nil
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

func printReport(w io.Writer, out rulesTestOutput) error {
	rep := out.Report
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	decision := "call"
	if !rep.Call {
		decision = "skip: " + rep.Reason
	}
	fmt.Fprintf(tw, "agent\t%s\n", out.Agent)
	fmt.Fprintf(tw, "decision\t%s\n", decision)
	whenResult := fmt.Sprint(rep.WhenResult)
	if rep.WhenError != "" {
		whenResult = "error"
	}
	fmt.Fprintf(tw, "when\t%s  →  %s\n", rep.When, whenResult)
	ev := rep.Event.Kind
	if rep.Event.Type != "" {
		ev += " (" + rep.Event.Type + ")"
	}
	if rep.Event.Property != "" {
		ev += fmt.Sprintf(" %s=%q", rep.Event.Property, rep.Event.Value)
	}
	fmt.Fprintf(tw, "event\t%s\n", ev)
	if rep.ObjectID != "" {
		fmt.Fprintf(tw, "record\t%s\n", rep.ObjectID)
	}
	phones := strings.Join(out.PhoneFields, ", ")
	if phones == "" {
		phones = "the record's phones"
	}
	fmt.Fprintf(tw, "phone fields\t%s (from %s)\n", phones, out.PhoneFieldsFrom)
	if rep.ToNumber != "" {
		fmt.Fprintf(tw, "to_number\t%s (from %s)\n", rep.ToNumber, rep.PhoneField)
	} else {
		fmt.Fprintf(tw, "to_number\t(none)\n")
	}
	fmt.Fprintf(tw, "timezone\t%s\n", rep.Timezone)
	if rep.TimezoneNote != "" {
		fmt.Fprintf(tw, "timezone note\t%s\n", rep.TimezoneNote)
	}
	fmt.Fprintf(tw, "\nVARIABLE\tVALUE\n")
	names := make([]string, 0, len(rep.Variables)+len(rep.VariableErrors))
	for n := range rep.Variables {
		names = append(names, n)
	}
	for n := range rep.VariableErrors {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		fmt.Fprintf(tw, "(none)\t\n")
	}
	for _, n := range names {
		if msg, failed := rep.VariableErrors[n]; failed {
			fmt.Fprintf(tw, "%s\terror: %s\n", n, oneLine(msg))
		} else {
			fmt.Fprintf(tw, "%s\t%q\n", n, rep.Variables[n])
		}
	}
	fmt.Fprintf(tw, "\nmissing fields\t%s\n", listOrNone(rep.MissingFields))
	fmt.Fprintf(tw, "missing required\t%s\n", listOrNone(rep.MissingRequired))
	return tw.Flush()
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

// oneLine keeps an expr message's first line (its caret snippet needs the
// source beside it).
func oneLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
