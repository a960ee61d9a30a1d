package cli

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/api"
)

func newDNDCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dnd",
		Short: "Manage the do-not-disturb list (through a running gateway)",
		Long: "Numbers on the do-not-disturb list are never called. Numbers without a\n" +
			"+country code are read in the gateway's server.default_region.",
	}
	var note string
	add := &cobra.Command{
		Use:   "add NUMBER",
		Short: "Add a number; its pending calls are canceled",
		Args:  argsNamed("NUMBER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return dndChange(cmd, o, http.MethodPost, api.DNDRequest{Number: args[0], Note: note})
		},
	}
	add.Flags().StringVar(&note, "note", "", "why the number is listed")
	remove := &cobra.Command{
		Use:   "remove NUMBER",
		Short: "Remove a number",
		Args:  argsNamed("NUMBER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return dndChange(cmd, o, http.MethodDelete, api.DNDRequest{Number: args[0]})
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the numbers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var l api.DNDList
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodGet, "/api/v1/dnd", nil, nil, &l)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			t := newTable(o, "NUMBER", "ADDED", "NOTE")
			for _, e := range l.Numbers {
				t.row(e.Number, fmtTime(e.AddedAt), e.Note)
			}
			if len(l.Numbers) == 0 {
				fmt.Fprintln(o.Stderr, "the DND list is empty")
			}
			return t.flush()
		},
	}
	cmd.AddCommand(add, remove, list)
	return cmd
}

func dndChange(cmd *cobra.Command, o *rootOptions, method string, req api.DNDRequest) error {
	var res api.DNDResult
	var query url.Values
	var body any = req
	if method == http.MethodDelete {
		query, body = url.Values{"number": {req.Number}}, nil
	}
	raw, err := newAdminClient(o).do(cmd.Context(), method, "/api/v1/dnd", query, body, &res)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		return printJSON(o, raw)
	}
	fmt.Fprintf(o.Stdout, "%s: %s\n", res.Number, res.Message)
	if res.Canceled > 0 {
		fmt.Fprintf(o.Stdout, "%d pending call(s) to it canceled\n", res.Canceled)
	}
	return nil
}
