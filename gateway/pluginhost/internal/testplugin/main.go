// Command testplugin serves testcrm as a plugin, built once by the
// pluginhost tests. Run as `testplugin plugin NAME` like the callgate
// binary, or bare as an external plugin named after its file. The name
// "crashatstart" exits before serving.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/callgate/callgate/gateway/pluginhost/internal/testcrm"
	"github.com/callgate/callgate/sdk"
)

func main() {
	// Run bare (as an external plugin), the binary's name is the plugin's.
	name := filepath.Base(os.Args[0])
	if len(os.Args) == 3 && os.Args[1] == "plugin" {
		name = os.Args[2]
	}
	if name == "crashatstart" {
		fmt.Fprintln(os.Stderr, "crashing at start on purpose")
		os.Exit(1)
	}
	sdk.Serve(testcrm.New(name))
}
