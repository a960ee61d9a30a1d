package cli

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/plugins/leadsquared/leadsquaredtest"
)

// The fakes' defaults match configs/quickstart.hcl, so `make run` works
// against `callgate fake hubspot` with no environment set.
const (
	fakeHubSpotAddr   = "127.0.0.1:8090"
	fakeHubSpotToken  = "demo-access-token"
	fakeLeadSquaredAt = "127.0.0.1:8091"
)

// sampleContact is the contact every fake HubSpot starts with (id 1001).
var sampleContact = map[string]any{
	"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com",
	"company": "Analytical Engines", "city": "Bengaluru", "mobilephone": "+91 98765 43210",
}

func newFakeCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fake",
		Short: "Serve a faithful fake CRM on this machine, for trials without an account",
		Long: "Serves the fakes callgate's own tests use: HubSpot's or LeadSquared's API with\n" +
			"their JSON shapes, status codes and rate-limit headers, on 127.0.0.1. Point an\n" +
			"integration's base_url (or host_url) at the printed URL. Nothing leaves this machine.",
	}
	cmd.AddCommand(newFakeHubSpotCmd(o), newFakeLeadSquaredCmd(o))
	return cmd
}

func newFakeHubSpotCmd(o *rootOptions) *cobra.Command {
	var listen, token, file string
	var noSample bool
	cmd := &cobra.Command{
		Use:   "hubspot",
		Short: "Serve a fake HubSpot CRM API (contacts, properties) until Ctrl-C",
		Long: "Serves HubSpot's CRM v3 contacts and properties APIs. Contacts come from a sample\n" +
			"(id 1001, unless --no-sample), from --contacts FILE (a JSON array of property maps,\n" +
			"or of {\"id\",\"properties\"} objects), and from POST /crm/v3/objects/contacts as on\n" +
			"HubSpot. Send the gateway a webhook for one with `callgate webhook send`.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			contacts, err := readFakeRecords(file)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("fake hubspot: listen on %s: %w (pick another with --listen)", listen, err)
			}
			fake := hubspottest.New(hubspottest.Options{Token: token, Listener: ln})
			defer fake.Close()
			var ids []string
			if !noSample {
				ids = append(ids, fake.AddContact("", sampleContact))
			}
			for _, c := range contacts {
				ids = append(ids, fake.AddContact(c.ID, c.Properties))
			}
			printFakeHubSpot(o, fake, ids)
			return serveUntilSignal(cmd)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", fakeHubSpotAddr, "address to serve on")
	f.StringVar(&token, "access-token", fakeHubSpotToken, "the private-app token the fake accepts")
	f.StringVar(&file, "contacts", "", "JSON file of contacts to load")
	f.BoolVar(&noSample, "no-sample", false, "start without the sample contact")
	return cmd
}

func printFakeHubSpot(o *rootOptions, fake *hubspottest.Server, ids []string) {
	fmt.Fprintf(o.Stdout, "fake HubSpot on %s (access token %q)\n", fake.URL, fake.Token())
	fmt.Fprintf(o.Stdout, "  use it:   integration \"hubspot\" { base_url = %q  access_token = %q }\n", fake.URL, fake.Token())
	fmt.Fprintf(o.Stdout, "  or:       HUBSPOT_BASE_URL=%s HUBSPOT_ACCESS_TOKEN=%s for configs/quickstart.hcl\n", fake.URL, fake.Token())
	if len(ids) > 0 {
		fmt.Fprintln(o.Stdout, "  contacts:")
		for _, id := range ids {
			p, _ := fake.Contact(id)
			fmt.Fprintf(o.Stdout, "    %-6s %s %s  %s\n", id, p["firstname"], p["lastname"], cmp.Or(p["mobilephone"], p["phone"], "(no phone)"))
		}
	}
	fmt.Fprintf(o.Stdout, "  add one:  curl -s -X POST %s/crm/v3/objects/contacts -H 'Authorization: Bearer %s' \\\n", fake.URL, fake.Token())
	fmt.Fprintln(o.Stdout, `              -H 'Content-Type: application/json' -d '{"properties":{"firstname":"Grace","mobilephone":"+91 98765 43211"}}'`)
	fmt.Fprintf(o.Stdout, "  call one: %s webhook send --agent AGENT --key API_KEY --contact ID\n", o.self())
	fmt.Fprintln(o.Stdout, "Serving until Ctrl-C.")
}

func newFakeLeadSquaredCmd(o *rootOptions) *cobra.Command {
	var listen, file string
	var noSample bool
	cmd := &cobra.Command{
		Use:   "leadsquared",
		Short: "Serve a fake LeadSquared API (leads, lead metadata) until Ctrl-C",
		Long: "Serves the LeadSquared v2 Lead Management calls the plugin uses. Leads come from a\n" +
			"sample (unless --no-sample) and from --leads FILE (a JSON array of leads, field →\n" +
			"value, as LeadSquared's webhooks carry them; ProspectID is generated when absent).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			leads, err := readFakeLeads(file)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("fake leadsquared: listen on %s: %w (pick another with --listen)", listen, err)
			}
			fake := leadsquaredtest.New(leadsquaredtest.Options{Listener: ln})
			defer fake.Close()
			if !noSample {
				leads = append([]leadsquaredtest.Lead{leadsquaredtest.NewLead(leadsquaredtest.LeadInput{
					FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com",
					Mobile: "+91-9876543210", Company: "Analytical Engines", City: "Bengaluru",
				})}, leads...)
			}
			for _, l := range leads {
				fake.AddLead(l)
			}
			fmt.Fprintf(o.Stdout, "fake LeadSquared on %s\n", fake.URL)
			fmt.Fprintf(o.Stdout, "  use it:   integration \"leadsquared\" { host_url = %q  access_key = %q  secret_key = %q }\n", fake.URL, fake.AccessKey(), fake.SecretKey())
			for _, l := range leads {
				fmt.Fprintf(o.Stdout, "  lead:     %s %v %v\n", l.ID(), l["FirstName"], l["LastName"])
			}
			fmt.Fprintf(o.Stdout, "  call one: %s webhook send --type leadsquared --agent AGENT --key API_KEY --file LEAD.json\n", o.self())
			fmt.Fprintln(o.Stdout, "Serving until Ctrl-C.")
			return serveUntilSignal(cmd)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", fakeLeadSquaredAt, "address to serve on")
	f.StringVar(&file, "leads", "", "JSON file of leads to load")
	f.BoolVar(&noSample, "no-sample", false, "start without the sample lead")
	return cmd
}

// fakeRecord is one contact of a --contacts file.
type fakeRecord struct {
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties"`
}

// readFakeRecords reads a JSON array of {"id","properties"} objects or of
// bare property maps.
func readFakeRecords(file string) ([]fakeRecord, error) {
	if file == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--contacts: %w", err)
	}
	var items []map[string]any
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("--contacts %s: want a JSON array of contacts: %v", file, err)
	}
	out := make([]fakeRecord, 0, len(items))
	for i, it := range items {
		props, nested := it["properties"].(map[string]any)
		if !nested {
			out = append(out, fakeRecord{Properties: it})
			continue
		}
		var id string
		switch v := it["id"].(type) {
		case string:
			id = v
		case float64:
			id = fmt.Sprintf("%.0f", v)
		case nil:
		default:
			return nil, fmt.Errorf("--contacts %s: contact %d: id must be a string or a number", file, i)
		}
		out = append(out, fakeRecord{ID: id, Properties: props})
	}
	return out, nil
}

func readFakeLeads(file string) ([]leadsquaredtest.Lead, error) {
	if file == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--leads: %w", err)
	}
	var leads []leadsquaredtest.Lead
	if err := json.Unmarshal(raw, &leads); err != nil {
		return nil, fmt.Errorf("--leads %s: want a JSON array of leads: %v", file, err)
	}
	for _, l := range leads {
		if l.ID() == "" {
			l["ProspectID"] = leadsquaredtest.NewProspectID()
		}
	}
	return leads, nil
}

func serveUntilSignal(cmd *cobra.Command) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
