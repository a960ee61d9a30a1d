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

func newEventsCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List, show and replay inbox events (through a running gateway)",
	}
	cmd.AddCommand(newEventsListCmd(o), newEventsShowCmd(o), newEventsReplayCmd(o), newEventsRefusedCmd(o))
	return cmd
}

// eventFilterFlags are the filters events list and events replay share.
type eventFilterFlags struct {
	status, agent, since, until, search string
}

func (f *eventFilterFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.status, "status", "", "only events with this status (pending, called, ignored, skipped, blocked, failed)")
	fl.StringVar(&f.agent, "agent", "", "only this agent's events")
	fl.StringVar(&f.since, "since", "", "received at or after (RFC 3339)")
	fl.StringVar(&f.until, "until", "", "received before (RFC 3339)")
	fl.StringVar(&f.search, "q", "", "search: contact id, phone number, email or name")
}

func (f *eventFilterFlags) values() map[string]string {
	return map[string]string{"status": f.status, "agent_id": f.agent, "since": f.since, "until": f.until, "q": f.search}
}

func newEventsListCmd(o *rootOptions) *cobra.Command {
	var filter eventFilterFlags
	var cursor string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List events newest first, with what became of each",
		Long: "Lists events newest first, filtered by status, agent and receive time\n" +
			"(--since/--until, RFC 3339); --q searches by contact id, phone number (any\n" +
			"format), email or name. STATUS is the call's current status when the event\n" +
			"became a call (EVENT shows the event's own).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range filter.values() {
				if v != "" {
					q.Set(k, v)
				}
			}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			var list api.EventList
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodGet, "/api/v1/events", q, nil, &list)
			if err != nil {
				return err
			}
			if list.NextCursor != "" {
				defer fmt.Fprintf(o.Stderr, "more events: %s events list %s--cursor %s\n", o.self(), repeatEventFlags(cmd), list.NextCursor)
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			t := newTable(o, "ID", "RECEIVED", "AGENT", "EVENT", "OBJECT", "STATUS", "CALL", "REASON")
			for _, e := range list.Events {
				t.row(e.ID, fmtTime(e.ReceivedAt), e.AgentID, e.EventType, e.ObjectType+" "+e.ObjectID, e.ShownStatus(), e.CallID, e.ShownReason())
			}
			if err := t.flush(); err != nil {
				return err
			}
			if len(list.Events) == 0 {
				fmt.Fprintln(o.Stderr, "no events match")
			}
			return nil
		},
	}
	filter.add(cmd)
	f := cmd.Flags()
	f.IntVar(&limit, "limit", 0, "events per page (default 50)")
	f.StringVar(&cursor, "cursor", "", "next_cursor of the previous page")
	return cmd
}

// repeatEventFlags renders the filter flags the user gave, for the
// next-page hint.
func repeatEventFlags(cmd *cobra.Command) string {
	var b strings.Builder
	for _, name := range []string{"status", "agent", "since", "until", "q", "limit"} {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
			fmt.Fprintf(&b, "--%s %s ", name, shellQuote(fl.Value.String()))
		}
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-_.:@/=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func newEventsShowCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one event: its status, reason, call and earlier outcomes",
		Args:  argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ev api.EventView
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
func printEvent(o *rootOptions, ev api.EventView) {
	t := newTable(o)
	t.row("id", ev.ID)
	t.row("agent", ev.AgentID)
	t.row("status", ev.Status)
	t.row("reason", ev.Reason)
	t.row("call", ev.CallID)
	if ev.CallStatus != "" {
		t.row("call status", ev.CallStatus)
		t.row("call reason", ev.CallReason)
	}
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
	var filter eventFilterFlags
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "replay [ID]",
		Short: "Send failed, skipped, ignored or blocked events through the pipeline again",
		Long: "With an ID, replays that event. Without one, replays every event matching the\n" +
			"filter flags (at least one is required), e.g.\n" +
			"  events replay --status failed --agent sales-intro --since 2026-12-01T00:00:00Z\n" +
			"Events that may not be replayed (pending, called, erased) are counted as\n" +
			"skipped. One run replays at most 10000 events; run it again for the rest.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return fmt.Errorf("too many arguments: takes ID, got %d (usage: %s)", len(args), cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				for _, v := range filter.values() {
					if v != "" {
						return fmt.Errorf("events replay: give an event ID or filter flags, not both")
					}
				}
				var ev api.Event
				raw, err := newAdminClient(o).do(cmd.Context(), http.MethodPost, "/api/v1/events/"+url.PathEscape(args[0])+"/replay", nil, nil, &ev)
				if err != nil {
					return err
				}
				if o.Output == "json" {
					return printJSON(o, raw)
				}
				fmt.Fprintf(o.Stdout, "event %s is %s again; `%s events list` shows what becomes of it\n", ev.ID, ev.Status, o.self())
				return nil
			}
			body := map[string]any{"dry_run": dryRun}
			given := false
			for k, v := range filter.values() {
				if v != "" {
					body[k], given = v, true
				}
			}
			if !given {
				return fmt.Errorf("events replay: give an event ID, or filter flags (--status, --agent, --since, --until, --q) to replay every event they match")
			}
			var res api.BulkReplay
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodPost, "/api/v1/events/replay", nil, body, &res)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			verb := "replayed"
			if dryRun {
				verb = "would replay"
			}
			fmt.Fprintf(o.Stdout, "%s %s; %d matched but may not be replayed (pending, called or erased)\n", verb, countEvents(res.Replayed), res.Skipped)
			if res.Truncated {
				fmt.Fprintf(o.Stdout, "more events match than one replay takes (%d): run the command again for the rest\n", store.MaxBulkReplay)
			}
			if res.Replayed > 0 && !dryRun {
				fmt.Fprintf(o.Stdout, "`%s events list --status pending` shows them until a worker takes them\n", o.self())
			}
			return nil
		},
	}
	filter.add(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "count what would be replayed; change nothing")
	return cmd
}

// countEvents is "1 event" or "N events".
func countEvents(n int) string {
	if n == 1 {
		return "1 event"
	}
	return strconv.Itoa(n) + " events"
}
