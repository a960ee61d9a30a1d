package e2e

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemo runs `callgate demo --once` as a newcomer would and checks it
// placed a call through the fake HubSpot and the log dialer within
// seconds, and told the user how to see it.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	cmd := exec.Command(binary, "demo", "--once", "--timeout", "20s")
	cmd.Dir = t.TempDir()
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("callgate demo: %v\n%s", err, out.String())
	}
	took := time.Since(start)
	for _, want := range []string{
		"became this call:",
		"status              completed",
		"to                  +919876543210",
		"variable firstname  Ada",
		"variable company    Analytical Engines",
		"The demo gateway has stopped. To look around its dashboard, run " + binary + " demo without --once.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// --once: the gateway is gone when the command returns, so no link to it.
	if regexp.MustCompile(`Dashboard: http://|CALLGATE_ADDR=`).MatchString(out.String()) {
		t.Errorf("--once printed links to a gateway that has exited:\n%s", out.String())
	}
	if took > 15*time.Second {
		t.Errorf("the demo took %s; a newcomer should see a call within seconds", took)
	}
}
