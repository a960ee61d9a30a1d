package cli

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/api"
)

func newEventsRefusedCmd(o *rootOptions) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "refused",
		Short: "List the latest requests the webhook endpoints refused, and why",
		Long: "Requests to /call/crm-webhook, /call/outbound, /call/delete-schedule-call and\n" +
			"/call/status/* that were answered 400 or more (a wrong key, an unknown agent or\n" +
			"type, a bad parameter or signature, a body too large, backpressure), newest first.\n" +
			"The gateway keeps the latest 200 in memory; each is also in its log at WARN.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			var l api.RefusalList
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodGet, "/api/v1/refusals", q, nil, &l)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			t := newTable(o, "TIME", "ROUTE", "AGENT", "TYPE", "STATUS", "REASON", "REMOTE", "REQUEST ID")
			for _, r := range l.Refusals {
				t.row(fmtTime(r.At), r.Route, dash(r.Agent), dash(r.Type), strconv.Itoa(r.Status)+" "+r.Class, r.Reason, r.Remote, r.RequestID)
			}
			return t.flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "how many to show")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
