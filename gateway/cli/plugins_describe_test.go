package cli

import (
	"strings"
	"testing"
)

// TestPluginsDescribeSaysWhereFieldsAre: the manifest does not hold the
// CRM's fields; describe points to the command that lists them, for each
// integration the plugin serves, and its help says so.
func TestPluginsDescribeSaysWhereFieldsAre(t *testing.T) {
	s := newAdminServer(t)
	out, errOut, code := s.callgate(t, "plugins", "describe", "hubspot")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var row string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "fields of ") {
			row = line
		}
	}
	if !strings.HasPrefix(row, "fields of hubspot") || !strings.HasSuffix(strings.TrimSpace(row), "callgate fields hubspot") {
		t.Errorf("no row naming the fields command for integration hubspot:\n%s", out)
	}
	help, _, code := s.callgate(t, "plugins", "describe", "--help")
	if code != 0 || !strings.Contains(help, "`callgate fields\nINTEGRATION` lists them") || !strings.Contains(help, "/ui/integrations/NAME/fields") {
		t.Errorf("describe's help does not say where fields are listed:\n%s", help)
	}
}
