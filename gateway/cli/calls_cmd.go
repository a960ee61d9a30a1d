package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/api"
)

func newCallsCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "calls",
		Short: "List, show and cancel calls (through a running gateway)",
	}
	cmd.AddCommand(newCallsListCmd(o), newCallsShowCmd(o), newCallsCancelCmd(o))
	return cmd
}

func newCallsListCmd(o *rootOptions) *cobra.Command {
	var agent, status, phone, since, until, search, cursor string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List calls, newest first",
		Long: "Lists calls newest first, filtered by agent, status, phone number and creation\n" +
			"time (--since/--until, RFC 3339). --q searches by contact id, phone number (any\n" +
			"format), email or name. When more calls follow, the command that prints the\n" +
			"next page is written to stderr.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"agent_id": agent, "status": status, "phone": phone, "since": since, "until": until, "q": search, "cursor": cursor} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			var list api.CallList
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodGet, "/api/v1/calls", q, nil, &list)
			if err != nil {
				return err
			}
			if list.NextCursor != "" {
				defer fmt.Fprintf(o.Stderr, "more calls: %s calls list %s--cursor %s\n", o.self(), repeatFlags(cmd), list.NextCursor)
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			t := newTable(o, "ID", "CREATED", "WHO", "AGENT", "TO", "STATUS", "ATTEMPTS", "NEXT ATTEMPT", "REASON")
			for _, c := range list.Calls {
				t.row(c.ID, fmtTime(c.CreatedAt), c.Who(), c.AgentID, c.ToNumber, c.Status, strconv.Itoa(len(c.Attempts)), fmtTimePtr(c.NextAttemptAt), c.Reason)
			}
			if err := t.flush(); err != nil {
				return err
			}
			if len(list.Calls) == 0 {
				fmt.Fprintln(o.Stderr, "no calls match")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&agent, "agent", "", "only this agent's calls")
	f.StringVar(&status, "status", "", "only calls with this status ("+strings.Join(api.CallStatuses, ", ")+")")
	f.StringVar(&phone, "phone", "", "only calls to this number")
	f.StringVar(&since, "since", "", "created at or after (RFC 3339)")
	f.StringVar(&until, "until", "", "created before (RFC 3339)")
	f.StringVar(&search, "q", "", "search: contact id, phone number, email or name")
	f.IntVar(&limit, "limit", 0, fmt.Sprintf("calls per page (default %d, at most %d)", api.DefaultLimit, api.MaxLimit))
	f.StringVar(&cursor, "cursor", "", "next_cursor of the previous page")
	return cmd
}

// repeatFlags renders the filter flags the user gave, for the next-page hint.
func repeatFlags(cmd *cobra.Command) string {
	var b strings.Builder
	for _, name := range []string{"agent", "status", "phone", "since", "until", "q", "limit"} {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
			fmt.Fprintf(&b, "--%s %s ", name, shellQuote(fl.Value.String()))
		}
	}
	return b.String()
}

func newCallsShowCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one call with its policy, attempts and what each attempt's conversation produced",
		Args:  argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c api.Call
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodGet, "/api/v1/calls/"+url.PathEscape(args[0]), nil, nil, &c)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			printCall(o, c)
			return nil
		},
	}
}

// printCall writes a call as labelled lines, then its attempts.
func printCall(o *rootOptions, c api.Call) {
	t := newTable(o)
	t.row("id", c.ID)
	t.row("agent", c.AgentID)
	t.row("status", c.Status)
	t.row("reason", c.Reason)
	t.row("to", c.ToNumber)
	t.row("dialer", c.Dialer)
	t.row("source", strings.TrimSpace(fmt.Sprintf("%s %s object %s event %s", c.Source.Type, c.Source.Integration, c.Source.ObjectID, c.Source.EventID)))
	t.row("timezone", c.Policy.Timezone)
	if w := c.Policy.Window; w != nil {
		t.row("window", fmt.Sprintf("%s-%s carry_over=%v %s", w.Start, w.End, w.CarryOver, strings.Join(w.Days, ",")))
	} else {
		t.row("window", "any time")
	}
	gaps := make([]string, len(c.Policy.Retry.Gaps))
	for i, g := range c.Policy.Retry.Gaps {
		gaps[i] = time.Duration(g).String()
	}
	t.row("retry", fmt.Sprintf("max=%d gaps=%s on=%s", c.Policy.Retry.Max, strings.Join(gaps, ","), strings.Join(c.Policy.Retry.On, ",")))
	if c.BatchID != "" || c.Priority != 0 || c.Language != "" {
		t.row("batch", terminalSafe(c.BatchID))
		t.row("priority", strconv.Itoa(c.Priority))
		t.row("language", c.Language)
	}
	t.row("next attempt", fmtTimePtr(c.NextAttemptAt))
	t.row("created", fmtTime(c.CreatedAt))
	t.row("updated", fmtTime(c.UpdatedAt))
	names := make([]string, 0, len(c.Variables))
	for k := range c.Variables {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t.row("variable "+k, c.Variables[k])
	}
	_ = t.flush()
	if len(c.Attempts) == 0 {
		return
	}
	fmt.Fprintln(o.Stdout)
	at := newTable(o, "ATTEMPT", "STARTED", "ENDED", "OUTCOME", "DURATION", "PROVIDER ID", "REASON")
	for _, a := range c.Attempts {
		at.row(strconv.Itoa(a.N), fmtTime(a.StartedAt), fmtTimePtr(a.EndedAt), a.Outcome, fmtSeconds(a.DurationS), a.ProviderCallID, a.Reason)
	}
	_ = at.flush()
	printReports(o, c.Attempts)
}

// fmtSeconds writes a talk time: "94s", "-" for none.
func fmtSeconds(s float64) string {
	if s <= 0 {
		return ""
	}
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

func newCallsCancelCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a pending call",
		Args:  argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c api.Call
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodPost, "/api/v1/calls/"+url.PathEscape(args[0])+"/cancel", nil, nil, &c)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			fmt.Fprintf(o.Stdout, "call %s canceled (%s)\n", c.ID, c.Reason)
			return nil
		},
	}
}
