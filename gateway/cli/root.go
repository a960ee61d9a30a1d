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
}

// commands lists every subcommand. A new command is one line here.
func commands(o *rootOptions) []*cobra.Command {
	return []*cobra.Command{
		newServeCmd(o),
		newConfigCmd(o),
		newVersionCmd(o),
		newRulesCmd(o),
		newCallsCmd(o),
		newEventsCmd(o),
		newOutboxCmd(o),
		newBackupCmd(o),
		newStoreCmd(o),
		newDNDCmd(o),
		newPluginsCmd(o),
		newAgentsCmd(o),
		newKeysCmd(o),
		newDemoCmd(o),
		newBenchCmd(o),
		newPluginCmd(),
	}
}

// exitError ends the process with code after the command has already
// told the user what went wrong.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs the command line with the process's arguments and returns the
// exit code.
func Main() int {
	return run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
}

// run is Main with its inputs passed in, for tests.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	o := &rootOptions{Stdout: stdout, Stderr: stderr, Getenv: getenv}
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
	return root
}
