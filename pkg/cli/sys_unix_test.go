//go:build unix

package cli_test

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// What the end-to-end tests need from a Unix system. They run only where
// the private Secret Service does (Linux); sys_other_test.go lets the
// package's tests compile and vet on Windows too.

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
}

// withControllingTerminal starts cmd in its own session with its stdin
// (a pty) as the controlling terminal, as a login shell would.
func withControllingTerminal(t *testing.T, cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
}

// freeze stops p without ending it, so that it hangs as a stuck daemon would.
func freeze(p *os.Process) error { return p.Signal(syscall.SIGSTOP) }
