// Command callgate turns CRM webhooks into AI phone calls. See README.md.
package main

import (
	"os"

	"github.com/callgate/callgate/gateway/cli"
)

func main() {
	os.Exit(cli.Main())
}
