package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/store"
)

// eventList is the body of GET /api/v1/events.
type eventList struct {
	Events     []store.Event `json:"events"`
	NextCursor string        `json:"next_cursor"`
}

func newEventsCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List, show and replay inbox events (through a running gateway)",
	}
	cmd.AddCommand(newEventsListCmd(o), newEventsShowCmd(o), newEventsReplayCmd(o), newEventsRefusedCmd(o))
	return cmd
}

func newEventsListCmd(o *rootOptions) *cobra.Command {
	var status, agent, cursor string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List events newest first, with what became of each",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"status": status, "agent_id": agent, "cursor": cursor} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			var list eventList
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodGet, "/api/v1/events", q, nil, &list)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			t := newTable(o, "ID", "RECEIVED", "AGENT", "EVENT", "OBJECT", "STATUS", "CALL", "REASON")
			for _, e := range list.Events {
				t.row(e.ID, fmtTime(e.ReceivedAt), e.AgentID, e.EventType, e.ObjectType+" "+e.ObjectID, e.Status, e.CallID, e.Reason)
			}
			if err := t.flush(); err != nil {
				return err
			}
			if len(list.Events) == 0 {
				fmt.Fprintln(o.Stderr, "no events match")
			}
			if list.NextCursor != "" {
				fmt.Fprintf(o.Stderr, "more events: %s events list --cursor %s\n", o.self(), list.NextCursor)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&status, "status", "", "only events with this status (pending, called, ignored, skipped, blocked, failed)")
	f.StringVar(&agent, "agent", "", "only this agent's events")
	f.IntVar(&limit, "limit", 0, "events per page (default 50)")
	f.StringVar(&cursor, "cursor", "", "next_cursor of the previous page")
	return cmd
}

func newEventsShowCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one event: its status, reason, call and earlier outcomes",
		Args:  argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ev store.Event
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodGet, "/api/v1/events/"+url.PathEscape(args[0]), nil, nil, &ev)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			printEvent(o, ev)
			return nil
		},
	}
}

// printEvent writes an event as labelled lines, then its history.
func printEvent(o *rootOptions, ev store.Event) {
	t := newTable(o)
	t.row("id", ev.ID)
	t.row("agent", ev.AgentID)
	t.row("status", ev.Status)
	t.row("reason", ev.Reason)
	t.row("call", ev.CallID)
	t.row("source", strings.TrimSpace(fmt.Sprintf("%s integration %s account %s", ev.Type, ev.Integration, ev.Account)))
	t.row("event", ev.EventType+" ("+ev.Kind+")")
	t.row("object", ev.ObjectType+" "+ev.ObjectID)
	if ev.Property != "" {
		t.row("property", ev.Property+" = "+ev.Value)
	}
	t.row("occurred", fmtTime(ev.OccurredAt))
	t.row("received", fmtTime(ev.ReceivedAt))
	t.row("updated", fmtTime(ev.UpdatedAt))
	t.row("tries", strconv.Itoa(ev.Attempts))
	if !ev.NotBefore.IsZero() {
		t.row("not before", fmtTime(ev.NotBefore))
	}
	t.row("dedupe key", ev.Key)
	_ = t.flush()
	if len(ev.History) == 0 {
		return
	}
	fmt.Fprintln(o.Stdout)
	fmt.Fprintln(o.Stdout, "HISTORY")
	for _, h := range ev.History {
		fmt.Fprintln(o.Stdout, h)
	}
}

func newEventsReplayCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "replay ID",
		Short: "Send a failed, skipped, ignored or blocked event through the pipeline again",
		Args:  argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ev store.Event
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodPost, "/api/v1/events/"+url.PathEscape(args[0])+"/replay", nil, nil, &ev)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			fmt.Fprintf(o.Stdout, "event %s is %s again; `%s events list` shows what becomes of it\n", ev.ID, ev.Status, o.self())
			return nil
		},
	}
}
