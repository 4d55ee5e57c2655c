package main

import "syscall"

// childAttr makes the kernel stop a child if the load generator dies
// without stopping it (killed, or a crash), so no server is left behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
