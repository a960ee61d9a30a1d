package cli

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/api"
)

func newFieldsCmd(o *rootOptions) *cobra.Command {
	var objectType string
	cmd := &cobra.Command{
		Use:   "fields INTEGRATION",
		Short: "List the CRM account's fields (properties) an agent's rules can read as contact.NAME",
		Long: "Reads the field definitions of an integration's CRM account through its plugin\n" +
			"(HubSpot's properties API, LeadSquared's lead metadata) with the integration's\n" +
			"credentials: name, label, type and, for enumerations, the values they take.",
		Args: argsNamed("INTEGRATION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			if objectType != "" {
				q.Set("object_type", objectType)
			}
			var l api.FieldList
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodGet, "/api/v1/integrations/"+url.PathEscape(args[0])+"/fields", q, nil, &l)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			t := newTable(o, "NAME", "LABEL", "TYPE", "OPTIONS")
			for _, f := range l.Fields {
				t.row(f.Name, f.Label, f.Type, optionList(f.Options))
			}
			return t.flush()
		},
	}
	cmd.Flags().StringVar(&objectType, "object-type", "", "object type (default: the plugin's main one: HubSpot contacts, LeadSquared leads)")
	return cmd
}

// optionList shows an enumeration's values, the first few of a long one.
func optionList(opts []api.FieldOption) string {
	const shown = 6
	vals := make([]string, 0, min(len(opts), shown))
	for i, o := range opts {
		if i == shown {
			vals = append(vals, "…")
			break
		}
		vals = append(vals, o.Value)
	}
	return strings.Join(vals, ", ")
}
