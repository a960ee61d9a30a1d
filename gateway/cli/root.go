// Package cli is the callgate command line: `serve` runs the gateway and
// wires its parts together; the other commands check configs or talk to a
// running gateway's admin API.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Env names read by the root flags.
const (
	EnvAddr  = "CALLGATE_ADDR"
	EnvToken = "CALLGATE_TOKEN"
)

// DefaultAddr is where commands look for a running gateway.
const DefaultAddr = "http://127.0.0.1:8080"

// rootOptions are the persistent flags and the process's streams, shared by
// every command.
type rootOptions struct {
	Addr   string // admin API base URL (--addr, CALLGATE_ADDR)
	Token  string // admin bearer token (--token, CALLGATE_TOKEN)
	Output string // json | table

	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Self is the binary as the user invoked it (./bin/callgate), for the
	// commands that hints tell them to run next.
	Self string
}

// self names this binary in hints: as invoked, or "callgate".
func (o *rootOptions) self() string {
	if o.Self == "" {
		return "callgate"
	}
	return o.Self
}

// commands lists every subcommand. A new command is one line here;
// offline marks those that never reach a running gateway.
func commands(o *rootOptions) []*cobra.Command {
	return []*cobra.Command{
		offline(newServeCmd(o)),
		offline(newConfigCmd(o)),
		offline(newVersionCmd(o)),
		newRulesCmd(o), // rules test --record-id asks a running gateway
		newCallsCmd(o),
		newEventsCmd(o),
		newAuditCmd(o),
		newOutboxCmd(o),
		newBackupCmd(o),
		offline(newStoreCmd(o)),
		offline(newMigrateCmd(o)),
		newDNDCmd(o),
		newContactsCmd(o),
		newPluginsCmd(o),
		newFieldsCmd(o),
		newAgentsCmd(o),
		offline(newKeysCmd(o)),
		offline(newDemoCmd(o)),
		offline(newFakeCmd(o)),
		newWebhookCmd(o),
		newHealthCmd(o),
		offline(newBenchCmd(o)),
		offline(newPluginCmd()),
	}
}

// serverFlags are the root flags that only commands talking to a
// running gateway use.
var serverFlags = []string{"addr", "token"}

// offline keeps the gateway's flags out of cmd's help: it works on files
// or runs things itself, so --addr and --token would only mislead.
func offline(cmd *cobra.Command) *cobra.Command {
	cmd.SetHelpFunc(func(c *cobra.Command, args []string) {
		pf := c.Root().PersistentFlags()
		for _, name := range serverFlags {
			pf.Lookup(name).Hidden = true
		}
		defer func() {
			for _, name := range serverFlags {
				pf.Lookup(name).Hidden = false
			}
		}()
		c.Root().HelpFunc()(c, args)
	})
	return cmd
}

// groupsRefuseUnknown makes every command that only groups subcommands
// (calls, dnd, …) fail on a subcommand it does not have, instead of
// printing its help and exiting 0.
func groupsRefuseUnknown(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		groupsRefuseUnknown(c)
	}
	if !cmd.HasSubCommands() || cmd.Run != nil || cmd.RunE != nil || !cmd.HasParent() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("unknown command %q for %q; see %s --help", args[0], c.CommandPath(), c.CommandPath())
		}
		return c.Help()
	}
}

// argsNamed accepts exactly the positional arguments names, and names
// the missing ones ("missing ID (usage: callgate calls show ID)").
func argsNamed(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return fmt.Errorf("missing %s (usage: %s)", strings.Join(names[len(args):], " "), cmd.UseLine())
		case len(args) > len(names):
			return fmt.Errorf("too many arguments: takes %s, got %d (usage: %s)", strings.Join(names, " "), len(args), cmd.UseLine())
		}
		return nil
	}
}

// exitError ends the process with code after the command has already
// told the user what went wrong.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs the command line with the process's arguments and returns the
// exit code.
func Main() int {
	return runAs(os.Args[0], os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
}

// run is Main with its inputs passed in, for tests.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	return runAs("callgate", args, stdout, stderr, getenv)
}

// runAs is run for a binary invoked as self.
func runAs(self string, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	o := &rootOptions{Stdout: stdout, Stderr: stderr, Getenv: getenv, Self: self}
	root := newRootCmd(o)
	root.SetArgs(args)
	err := root.Execute()
	var exit exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.code
	default:
		fmt.Fprintf(stderr, "callgate: %v\n", err)
		return 1
	}
}

func newRootCmd(o *rootOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "callgate",
		Short: "callgate turns CRM webhooks into AI phone calls",
		Long: "callgate is a self-hosted gateway: CRM webhooks in, rules, a durable scheduler,\n" +
			"and phone calls out through a dialer. `callgate serve` runs it; the other\n" +
			"commands check configs or talk to a running gateway's admin API.",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			flags := cmd.Flags()
			if !flags.Changed("addr") {
				if v := o.Getenv(EnvAddr); v != "" {
					o.Addr = v
				}
			}
			if !flags.Changed("token") {
				o.Token = o.Getenv(EnvToken)
			}
			o.Addr = strings.TrimRight(o.Addr, "/")
			if o.Output != "json" && o.Output != "table" {
				return fmt.Errorf("--output must be json or table, not %q", o.Output)
			}
			return nil
		},
	}
	root.SetOut(o.Stdout)
	root.SetErr(o.Stderr)
	pf := root.PersistentFlags()
	// Defaults from the environment are applied in PersistentPreRunE, so
	// --help never prints a token taken from the environment.
	pf.StringVar(&o.Addr, "addr", DefaultAddr, "base URL of a running gateway (env "+EnvAddr+")")
	pf.StringVar(&o.Token, "token", "", "admin API bearer token (env "+EnvToken+")")
	pf.StringVarP(&o.Output, "output", "o", "table", "output format: table or json")
	root.AddCommand(commands(o)...)
	groupsRefuseUnknown(root)
	return root
}
