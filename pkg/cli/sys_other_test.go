//go:build !unix

package cli_test

import (
	"errors"
	"os"
	"os/exec"
	"testing"
)

func mkfifo(t *testing.T, path string) { t.Skip("FIFOs need a Unix system") }

func withControllingTerminal(t *testing.T, cmd *exec.Cmd) {
	t.Skip("controlling terminals need a Unix system")
}

func freeze(p *os.Process) error { return errors.New("stopping a process needs a Unix system") }
