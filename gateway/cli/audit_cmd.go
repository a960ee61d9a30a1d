package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/api"
)

func newAuditCmd(o *rootOptions) *cobra.Command {
	var since, until, agent string
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Account for every lead of a period: CRM records, events, calls, and the leads not accounted for",
		Long: "For the period (default the last 24 hours): the records created in the CRM (as\n" +
			"reconciliation listed them), the events received by webhook and recovered by\n" +
			"reconciliation, the calls they became, what became of the rest with the reasons,\n" +
			"and the leads not accounted for: records created in the CRM with no event at all.\n" +
			"That number is 0 when all is well. --since and --until take an RFC 3339 time or a\n" +
			"duration back from now (72h). docs/operations.md explains each figure.",
		Example: "  callgate audit\n  callgate audit --since 72h --agent sales\n  callgate audit --since 2026-11-27T00:00:00Z --until 2026-11-28T00:00:00Z",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"since": since, "until": until, "agent_id": agent} {
				if v != "" {
					q.Set(k, v)
				}
			}
			var rep api.AuditReport
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodGet, "/api/v1/audit", q, nil, &rep)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			return printAudit(o, rep)
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "start of the period: RFC 3339 time or a duration back from now (default: until − 24h)")
	cmd.Flags().StringVar(&until, "until", "", "end of the period: RFC 3339 time or a duration back from now (default: now)")
	cmd.Flags().StringVar(&agent, "agent", "", "one agent's events and its integrations' records")
	return cmd
}

func printAudit(o *rootOptions, rep api.AuditReport) error {
	who := "every agent"
	if rep.AgentID != "" {
		who = "agent " + rep.AgentID
	}
	w := o.Stdout
	fmt.Fprintf(w, "Audit %s – %s, %s\n\n", fmtTime(rep.Since), fmtTime(rep.Until), who)
	reconciled := slices.ContainsFunc(rep.Reconciliation, func(s api.ReconcileState) bool { return s.Enabled })
	t := newTable(o)
	if reconciled {
		t.row("Leads not accounted for", strconv.Itoa(rep.Unaccounted))
		t.row("CRM records created", strconv.Itoa(rep.CRMRecords))
	} else {
		t.row("Leads not accounted for", "not known: no integration has a reconcile block")
	}
	t.row("Events by webhook", strconv.Itoa(rep.Webhook))
	t.row("Events by reconciliation", strconv.Itoa(rep.Reconciled))
	t.row("Events by status", counts(rep.Events))
	t.row("Calls", strconv.Itoa(rep.Calls))
	t.row("Calls by status", counts(rep.CallStatuses))
	if err := t.flush(); err != nil {
		return err
	}
	if len(rep.Reasons) > 0 {
		fmt.Fprintln(w, "\nEvents that did not become a call:")
		t := newTable(o, "STATUS", "EVENTS", "REASON")
		for _, r := range rep.Reasons {
			t.row(r.Status, strconv.Itoa(r.Events), r.Reason)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if len(rep.UnaccountedRecords) > 0 {
		fmt.Fprintf(w, "\nRecords with no event (%d of %d):\n", len(rep.UnaccountedRecords), rep.Unaccounted)
		t := newTable(o, "INTEGRATION", "OBJECT", "ID", "CREATED")
		for _, r := range rep.UnaccountedRecords {
			t.row(r.Integration, r.ObjectType, r.ObjectID, fmtTime(r.CreatedAt))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nReconciliation:")
	t = newTable(o, "INTEGRATION", "EVERY", "LAST PASS", "LISTED", "RECOVERED", "ERROR")
	for _, s := range rep.Reconciliation {
		if !s.Enabled {
			t.row(s.Integration, "off (no reconcile block)", "-", "-", "-", "-")
			continue
		}
		t.row(s.Integration, s.Every, fmtTimePtr(s.LastPass), strconv.Itoa(s.Listed), strconv.Itoa(s.Recovered), s.Error)
	}
	return t.flush()
}

// counts writes a map of counts as "a 1, b 2", by name.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
