//go:build !windows

package notify

import (
	"context"
	"os/exec"
	"syscall"
)

// shellCommand is /bin/sh -c script, leader of a process group of its own
// that a cancelled ctx kills whole.
func shellCommand(ctx context.Context, script string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The group's ID is the shell's PID; a negative PID names the group.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	return cmd
}
