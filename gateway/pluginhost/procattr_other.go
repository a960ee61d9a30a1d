//go:build !linux

package pluginhost

import "syscall"

// dieWithParent has no kernel support here; plugins built with sdk.Serve
// still exit when they notice the gateway is gone.
func dieWithParent() *syscall.SysProcAttr { return nil }
