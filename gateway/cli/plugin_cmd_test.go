package cli

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// TestPluginCmdHelper is not a test: re-executed as
// `cli.test -test.run=^TestPluginCmdHelper$ -- plugin NAME` it is
// `callgate plugin NAME`, the way the gateway starts a built-in.
func TestPluginCmdHelper(t *testing.T) {
	args := flag.Args()
	if len(args) == 0 || args[0] != "plugin" {
		t.Skip("helper process for TestBuiltinPluginsConform")
	}
	os.Exit(run(args, os.Stdout, os.Stderr, os.Getenv))
}

// TestBuiltinPluginsConform runs every built-in as a real plugin process
// through `callgate plugin NAME` and puts it through sdktest.Conformance.
// (Each plugin's own tests run it with webhook fixtures.)
func TestBuiltinPluginsConform(t *testing.T) {
	for _, name := range builtinPluginNames() {
		t.Run(name, func(t *testing.T) {
			sdktest.Conformance(t, sdktest.Plugin{
				Path: os.Args[0],
				Args: []string{"-test.run=^TestPluginCmdHelper$", "--", "plugin", name},
			}, sdktest.Fixtures{Credentials: sdk.Credentials{"base_url": "http://127.0.0.1:1"}})
		})
	}
}

func TestPluginCmdRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown plugin", []string{"plugin", "nosuchcrm"}, `no built-in plugin "nosuchcrm"; built-ins: `},
		{"no name", []string{"plugin"}, "accepts 1 arg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb, func(string) string { return "" })
			if code == 0 || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q, want %q", code, errb.String(), tc.want)
			}
		})
	}
}
