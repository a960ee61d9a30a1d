// Command callgate-leadform is a callgate CRM plugin for a generic JSON
// "lead form" webhook: a website form (or any tool) posts each submission
// with the lead's fields and phone inline, so callgate can call the lead
// without fetching anything. It is also the worked example of the plugin
// SDK: see docs/plugins.md.
package main

import "github.com/callgate/callgate/sdk"

func main() { sdk.Serve(New()) }
