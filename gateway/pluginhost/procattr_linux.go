package pluginhost

import "syscall"

// dieWithParent asks the kernel to SIGKILL the plugin when the gateway
// dies, however it dies. (Pdeathsig follows the forking thread; Go only
// retires threads of goroutines that exit while locked to them, which the
// host never does.)
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
