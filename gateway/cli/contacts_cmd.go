package cli

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/api"
)

func newContactsCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contacts",
		Short: "Act on a person's data (through a running gateway)",
	}
	var number, contact, integration, account string
	erase := &cobra.Command{
		Use:   "erase --number N | --contact TYPE:ID",
		Short: "Erase what callgate holds about a person (GDPR erasure)",
		Long: "Cancels the person's calls that have not ended (an attempt already dialing\n" +
			"finishes; no retry follows) and replaces their number, variables, record\n" +
			"fields, inline records and notification bodies with \"[erased]\" in calls,\n" +
			"events, the outbox and dead letters. Ids, statuses, reasons and times stay.\n" +
			"The DND list is kept. This is the same path as HubSpot's contact.privacyDeletion.\n\n" +
			"--contact TYPE:ID names a CRM record: TYPE is an integration name or a\n" +
			"plugin type (hubspot, leadsquared), ID the CRM's id. Its calls bring their\n" +
			"numbers in: every call to them is erased too. Numbers without +country\n" +
			"are read in the gateway's server.default_region. Take a new backup after\n" +
			"an erasure and drop the older ones (docs/operations.md).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := eraseRequest(number, contact, integration, account)
			if err != nil {
				return err
			}
			var res api.EraseResult
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodPost, "/api/v1/contacts/erase", nil, req, &res)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			fmt.Fprintf(o.Stdout, "canceled %d call(s)", res.Canceled.Calls)
			if res.Canceled.Dialing > 0 {
				fmt.Fprintf(o.Stdout, " (%d already dialing: the attempt finishes, no retry follows)", res.Canceled.Dialing)
			}
			fmt.Fprintf(o.Stdout, "\nerased %d call(s), %d event(s), %d notification(s), %d dead letter(s)\n",
				res.Erased.Calls, res.Erased.Events, res.Erased.Outbox, res.Erased.DeadLetters)
			fmt.Fprintln(o.Stdout, "take a new backup (callgate backup) and drop the older ones: they still hold the data")
			return nil
		},
	}
	erase.Flags().StringVar(&number, "number", "", "the person's phone number")
	erase.Flags().StringVar(&contact, "contact", "", "the CRM record, TYPE:ID (e.g. hubspot:123)")
	erase.Flags().StringVar(&integration, "integration", "", "with --contact: only this integration block")
	erase.Flags().StringVar(&account, "account", "", "with --contact: only this CRM account (HubSpot portal id)")
	cmd.AddCommand(erase)
	return cmd
}

// eraseRequest checks the flags: exactly one of --number and --contact.
func eraseRequest(number, contact, integration, account string) (api.EraseRequest, error) {
	number, contact = strings.TrimSpace(number), strings.TrimSpace(contact)
	switch {
	case number == "" && contact == "":
		return api.EraseRequest{}, errors.New("--number or --contact is required")
	case number != "" && contact != "":
		return api.EraseRequest{}, errors.New("--number and --contact: give one of them")
	case number != "":
		if integration != "" || account != "" {
			return api.EraseRequest{}, errors.New("--integration and --account go with --contact")
		}
		return api.EraseRequest{Number: number}, nil
	}
	typ, id, ok := strings.Cut(contact, ":")
	if !ok || strings.TrimSpace(typ) == "" || strings.TrimSpace(id) == "" {
		return api.EraseRequest{}, fmt.Errorf("--contact %q: use TYPE:ID, e.g. hubspot:123", contact)
	}
	return api.EraseRequest{ContactType: strings.TrimSpace(typ), ObjectID: strings.TrimSpace(id), Integration: integration, Account: account}, nil
}
