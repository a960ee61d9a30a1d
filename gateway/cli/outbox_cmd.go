package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/store"
)

func newOutboxCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "outbox",
		Short: "List notifications waiting to leave and retry dead letters (through a running gateway)",
		Long: "The outbox holds lifecycle webhooks and CRM write-backs until they are\n" +
			"delivered. One that exhausted its tries, or was refused for good, stays as a\n" +
			"dead letter with its last error until an operator retries it. Bodies,\n" +
			"signature headers and URL queries (they may hold tokens) are never shown.",
	}
	cmd.AddCommand(newOutboxListCmd(o), newOutboxRetryCmd(o))
	return cmd
}

func newOutboxListCmd(o *rootOptions) *cobra.Command {
	var dead, pending bool
	var kind, call, cursor string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List outbox items oldest first, with their tries and last error",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dead && pending {
				return fmt.Errorf("--dead and --pending exclude each other; give one or neither")
			}
			q := url.Values{}
			for k, v := range map[string]string{"kind": kind, "call_id": call, "cursor": cursor} {
				if v != "" {
					q.Set(k, v)
				}
			}
			switch {
			case dead:
				q.Set("dead", "true")
			case pending:
				q.Set("dead", "false")
			}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			var list api.OutboxList
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodGet, "/api/v1/outbox", q, nil, &list)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			t := newTable(o, "ID", "KIND", "STATE", "TO", "CALL", "EVENT", "TRIES", "NEXT", "LAST ERROR")
			for _, it := range list.Items {
				state, to, next := "pending", it.URL, fmtTime(it.NextAt)
				if it.Dead {
					state, next = "dead", "-"
				}
				if it.Kind == store.OutboxWriteback {
					to = "integration " + it.Integration
				}
				t.row(it.ID, it.Kind, state, to, it.CallID, it.Event, strconv.Itoa(it.Attempts), next, it.LastError)
			}
			if err := t.flush(); err != nil {
				return err
			}
			if len(list.Items) == 0 {
				fmt.Fprintln(o.Stderr, "no outbox items match")
			}
			if list.NextCursor != "" {
				fmt.Fprintf(o.Stderr, "more items: %s outbox list %s--cursor %s\n", o.self(), outboxRepeatFlags(cmd), list.NextCursor)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&dead, "dead", false, "only dead letters")
	f.BoolVar(&pending, "pending", false, "only items still to be delivered")
	f.StringVar(&kind, "kind", "", "only this kind (webhook, writeback)")
	f.StringVar(&call, "call", "", "only items about this call id")
	f.IntVar(&limit, "limit", 0, fmt.Sprintf("items per page (default %d, at most %d)", api.DefaultLimit, api.MaxLimit))
	f.StringVar(&cursor, "cursor", "", "next_cursor of the previous page")
	return cmd
}

// outboxRepeatFlags renders the filter flags the user gave, for the
// next-page hint.
func outboxRepeatFlags(cmd *cobra.Command) string {
	var b strings.Builder
	for _, name := range []string{"dead", "pending", "kind", "call", "limit"} {
		fl := cmd.Flags().Lookup(name)
		switch {
		case fl == nil || !fl.Changed:
		case fl.Value.Type() == "bool":
			fmt.Fprintf(&b, "--%s=%s ", name, fl.Value.String())
		default:
			fmt.Fprintf(&b, "--%s %s ", name, fl.Value.String())
		}
	}
	return b.String()
}

func newOutboxRetryCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "retry ID",
		Short: "Deliver a dead letter again now, its tries reset",
		Args:  argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var it api.OutboxEntry
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodPost, "/api/v1/outbox/"+url.PathEscape(args[0])+"/retry", nil, nil, &it)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			hint := o.self() + " outbox list"
			if it.CallID != "" {
				hint += " --call " + it.CallID
			}
			fmt.Fprintf(o.Stdout, "outbox item %s (%s) is due again; `%s` shows what becomes of it\n", it.ID, it.Kind, hint)
			return nil
		},
	}
}
