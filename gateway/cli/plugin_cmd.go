package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/leadsquared"
	"github.com/callgate/callgate/sdk"
	"github.com/spf13/cobra"
)

// builtinPlugins is the registry of CRM plugins compiled into callgate:
// adding one is one line here. The gateway runs each as a child process,
// `callgate plugin NAME`.
func builtinPlugins() map[string]func() sdk.CRM {
	return map[string]func() sdk.CRM{
		"hubspot":     func() sdk.CRM { return hubspot.New() },
		"leadsquared": func() sdk.CRM { return leadsquared.New() },
	}
}

// builtinPluginNames returns the names of the built-in plugins, sorted.
func builtinPluginNames() []string {
	names := make([]string, 0, len(builtinPlugins()))
	for name := range builtinPlugins() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// newPluginCmd is the hidden `callgate plugin NAME` command: the gateway
// re-executes its own binary with it to serve a built-in plugin over the
// go-plugin handshake. It is not meant to be run by hand.
func newPluginCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "plugin NAME",
		Short:  "Serve a built-in CRM plugin (run by the gateway, not by hand)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mk, ok := builtinPlugins()[args[0]]
			if !ok {
				return fmt.Errorf("no built-in plugin %q; built-ins: %s", args[0], strings.Join(builtinPluginNames(), ", "))
			}
			applyGCDefaults() // gc.go; GOGC and GOMEMLIMIT win
			sdk.Serve(mk())
			return nil
		},
	}
}
