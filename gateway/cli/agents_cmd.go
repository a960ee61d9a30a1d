package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/api"
)

func newAgentsCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agents",
		Short: "Show the agents of a running gateway",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List agents with their policy and rules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var l api.AgentList
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodGet, "/api/v1/agents", nil, nil, &l)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			t := newTable(o, "AGENT", "DIALER", "TIMEZONE", "WINDOW", "RETRIES", "WHEN", "VARIABLES")
			for _, a := range l.Agents {
				window := "any time"
				if w := a.Policy.Window; w != nil {
					window = w.Start + "-" + w.End
				}
				gaps := make([]string, len(a.Policy.Retry.Gaps))
				for i, g := range a.Policy.Retry.Gaps {
					gaps[i] = time.Duration(g).String()
				}
				names := make([]string, 0, len(a.Variables))
				for k := range a.Variables {
					names = append(names, k)
				}
				t.row(a.ID, a.Dialer, a.Policy.Timezone, window,
					strconv.Itoa(a.Policy.Retry.Max)+" ("+strings.Join(gaps, ",")+")", a.When, strings.Join(sorted(names), ","))
			}
			if err := t.flush(); err != nil {
				return err
			}
			// The gateway's field check: contact fields the accounts lack.
			for _, a := range l.Agents {
				for _, w := range a.Warnings {
					fmt.Fprintf(o.Stderr, "warning: agent %s: %s\n", a.ID, w)
				}
			}
			return nil
		},
	})
	return cmd
}

// writeJSON prints v indented, for --output json of client-side results.
func writeJSON(o *rootOptions, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.Stdout, "%s\n", b)
	return err
}

func sorted(s []string) []string {
	sort.Strings(s)
	return s
}
