//go:build unix

package gcpilot

import "syscall"

// canConnect reports whether this process may connect to the unix socket
// at path: connecting needs write permission on the socket file.
func canConnect(path string) bool {
	return syscall.Access(path, 2 /* W_OK */) == nil
}
