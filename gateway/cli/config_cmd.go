package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/pluginhost"
)

func newConfigCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with callgate config files",
	}
	var online bool
	check := &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a config file; every problem is printed as file:line:col: message",
		Long: "Loads FILE as `serve` would, checks every block, key and rule, and prints \"ok\"\n" +
			"or every problem found. Exits 1 when there is any problem.\n\n" +
			"Without --online nothing is contacted, and env() variables that are not set in\n" +
			"this shell read as a placeholder (they are listed, as serve will need them), so\n" +
			"a file can be checked on a machine without its secrets.\n\n" +
			"--online reads env() from this shell as serve does (an unset one is a problem),\n" +
			"starts the plugins as the gateway does and asks each integration's CRM for its\n" +
			"properties: a contact.X an agent's rules or phone_fields read that the account\n" +
			"lacks is printed as a warning with a did-you-mean. Warnings, and a CRM that\n" +
			"cannot be reached, never make the check fail.",
		Args: argsNamed("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return checkConfig(cmd.Context(), o, args[0], online)
		},
	}
	check.Flags().BoolVar(&online, "online", false, "also ask the CRMs, through the plugins, whether the fields the rules read exist")
	cmd.AddCommand(offline(check))
	return cmd
}

// checkResult is `config check --output json`.
type checkResult struct {
	OK       bool             `json:"ok"`
	File     string           `json:"file"`
	Problems []config.Problem `json:"problems"`
	// UnsetEnv are the env() variables this shell does not set (without
	// --online they read as a placeholder).
	UnsetEnv []string `json:"unset_env"`
	// Online is set with --online: the field check's findings.
	Online *config.FieldCheck `json:"online,omitempty"`
}

func checkConfig(ctx context.Context, o *rootOptions, path string, online bool) error {
	res := checkResult{File: path, Problems: []config.Problem{}, UnsetEnv: []string{}}
	cfg, unset, err := loadForCheck(path, o.Getenv, online)
	res.OK = err == nil
	res.UnsetEnv = append(res.UnsetEnv, unset...)
	if cerr, ok := config.AsError(err); ok {
		res.Problems = cerr.Problems()
	} else if err != nil {
		res.Problems = append(res.Problems, config.Problem{Message: err.Error()})
	}
	if res.OK && online {
		fc, err := checkFieldsOnline(ctx, o, cfg)
		if err != nil {
			return err
		}
		res.Online = &fc
	}
	if o.Output == "json" {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printCheck(o, res)
	}
	if !res.OK {
		return exitError{code: 1}
	}
	return nil
}

func printCheck(o *rootOptions, res checkResult) {
	if !res.OK {
		for _, p := range res.Problems {
			fmt.Fprintln(o.Stderr, p.String())
		}
		fmt.Fprintf(o.Stderr, "%s: %d problem(s); the gateway will not start with this file\n", res.File, len(res.Problems))
		return
	}
	for _, name := range res.UnsetEnv {
		fmt.Fprintf(o.Stderr, "%s: note: env(%q) is not set in this shell; serve needs it (read as a placeholder here)\n", res.File, name)
	}
	if res.Online != nil {
		for _, u := range res.Online.Unchecked {
			fmt.Fprintf(o.Stderr, "%s: warning: integration %s: could not read its properties, so its agents' fields are not checked: %s\n", res.File, u.Integration, u.Error)
		}
		for _, w := range res.Online.Warnings {
			fmt.Fprintf(o.Stderr, "%s: warning: %s\n", res.File, w.String())
		}
	}
	fmt.Fprintln(o.Stdout, "ok")
}

// loadForCheck loads the file for `config check`: online, env() reads
// this shell's environment as serve's does; offline, an unset variable
// without a default reads unsetEnvPlaceholder, as in `rules test`, and
// its name is returned.
func loadForCheck(path string, getenv func(string) string, online bool) (*config.Config, []string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("config %s: %w", path, err)
	}
	if online {
		cfg, err := config.LoadWithEnv(path, src, setEnv(getenv))
		return cfg, nil, err
	}
	return config.LoadWithPlaceholders(path, src, setEnv(getenv), unsetEnvPlaceholder)
}

// checkFieldsOnline starts the plugins as serve does (the built-in ones
// and the file's plugin blocks, as child processes), runs the field check
// through them with each integration's credentials, and stops them.
func checkFieldsOnline(ctx context.Context, o *rootOptions, cfg *config.Config) (config.FieldCheck, error) {
	var external []*config.Plugin
	for _, name := range slices.Sorted(maps.Keys(cfg.Plugins)) {
		external = append(external, cfg.Plugins[name])
	}
	host, err := pluginhost.New(pluginhost.Config{
		Builtins: builtinPluginNames(), External: external,
		Logger: hclog.New(&hclog.LoggerOptions{Name: "plugins", Output: o.Stderr, Level: hclog.Error}),
	})
	if err != nil {
		return config.FieldCheck{}, err
	}
	defer host.Close()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := host.Start(sctx); err != nil {
		return config.FieldCheck{}, fmt.Errorf("start plugins: %w", err)
	}
	current := func() *config.Config { return cfg }
	fc := config.CheckFields(ctx, cfg, accountProperties(integrationPlugins{host: host, cfg: current}))
	sort.SliceStable(fc.Unchecked, func(i, j int) bool { return fc.Unchecked[i].Integration < fc.Unchecked[j].Integration })
	return fc, nil
}
