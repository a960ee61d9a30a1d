package cli

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve built-in plugins: `serve` starts
// them by re-executing its own binary as `<binary> plugin NAME`, and under
// `go test` that binary is this one.
func TestMain(m *testing.M) {
	if len(os.Args) >= 3 && os.Args[1] == "plugin" {
		os.Exit(Main())
	}
	os.Exit(m.Run())
}
