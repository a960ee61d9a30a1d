package cli

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/api"
)

func newPluginsCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugins",
		Short: "Show the CRM plugins and integrations of a running gateway",
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List plugin processes and the integrations' credential checks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var l api.PluginList
			raw, err := newAdminClient(o).do(cmd.Context(), http.MethodGet, "/api/v1/plugins", nil, nil, &l)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(o, raw)
			}
			t := newTable(o, "PLUGIN", "VERSION", "SOURCE", "STATE", "RESTARTS", "PID", "LAST ERROR")
			for _, p := range l.Plugins {
				t.row(p.Name, p.Version, p.Source, p.State, strconv.Itoa(p.Restarts), pid(p.PID), p.LastError)
			}
			if err := t.flush(); err != nil {
				return err
			}
			fmt.Fprintln(o.Stdout)
			it := newTable(o, "INTEGRATION", "TYPE", "CREDENTIALS", "CHECKED")
			for _, in := range l.Integrations {
				it.row(in.Name, in.Type, credentialState(in.Credentials), fmtTime(in.Credentials.CheckedAt))
			}
			return it.flush()
		},
	}
	describe := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show one plugin's manifest: events, credentials, capabilities, content types, phone fields",
		Long: "Shows one plugin's manifest and the credential check of each integration it serves.\n" +
			"The CRM fields (properties) rules can read are not part of it: `callgate fields\n" +
			"INTEGRATION` lists them, as does the dashboard's /ui/integrations/NAME/fields.",
		Args: argsNamed("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var l api.PluginList
			if _, err := newAdminClient(o).do(cmd.Context(), http.MethodGet, "/api/v1/plugins", nil, nil, &l); err != nil {
				return err
			}
			var names []string
			for _, p := range l.Plugins {
				if p.Name == args[0] {
					return describePlugin(o, p, l.Integrations)
				}
				names = append(names, p.Name)
			}
			return fmt.Errorf("no plugin %q runs in this gateway; running: %s", args[0], strings.Join(names, ", "))
		},
	}
	cmd.AddCommand(list, describe)
	return cmd
}

func describePlugin(o *rootOptions, p api.PluginStatus, integrations []api.Integration) error {
	if o.Output == "json" {
		var ins []api.Integration
		for _, in := range integrations {
			if in.Type == p.Name {
				ins = append(ins, in)
			}
		}
		return writeJSON(o, struct {
			api.PluginStatus
			Integrations []api.Integration `json:"integrations"`
		}{p, ins})
	}
	t := newTable(o)
	t.row("name", p.Name)
	t.row("version", p.Version)
	t.row("source", p.Source)
	t.row("state", p.State)
	t.row("restarts", strconv.Itoa(p.Restarts))
	t.row("pid", pid(p.PID))
	t.row("last error", p.LastError)
	if m := p.Manifest; m != nil {
		t.row("display name", m.DisplayName)
		t.row("protocol", strconv.Itoa(m.ProtocolVersion))
		t.row("event types", strings.Join(m.EventTypes, ", "))
		t.row("capabilities", strings.Join(m.Capabilities, ", "))
		t.row("content types", strings.Join(m.ContentTypes, ", "))
		t.row("phone fields", strings.Join(m.PhoneFields, ", "))
		for _, c := range m.CredentialFields {
			var tags []string
			if c.Required {
				tags = append(tags, "required")
			}
			if c.Secret {
				tags = append(tags, "secret")
			}
			desc := c.Description
			if len(tags) > 0 {
				desc += " (" + strings.Join(tags, ", ") + ")"
			}
			t.row("credential "+c.Name, strings.TrimSpace(desc))
		}
	}
	for _, in := range integrations {
		if in.Type == p.Name {
			t.row("integration "+in.Name, credentialState(in.Credentials))
			t.row("fields of "+in.Name, o.self()+" fields "+in.Name)
		}
	}
	return t.flush()
}

func credentialState(c api.CredentialResult) string {
	switch {
	case !c.Checked:
		return "not checked"
	case c.OK:
		return "accepted"
	case c.State == "":
		return "rejected: " + c.Error // a gateway older than the states
	default:
		return c.State + ": " + c.Error
	}
}

func pid(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}
