//go:build windows

package notify

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// shellCommand is cmd.exe /C script in a process group of its own; a
// cancelled ctx ends the whole tree (taskkill /T), as Windows has no
// signal for a group.
func shellCommand(ctx context.Context, script string) *exec.Cmd {
	shell := os.Getenv("ComSpec")
	if shell == "" {
		shell = `C:\Windows\System32\cmd.exe`
	}
	cmd := exec.CommandContext(ctx, shell)
	// cmd.exe parses its own command line: pass the script as written,
	// not quoted as one argument.
	cmd.SysProcAttr = &syscall.SysProcAttr{
		CmdLine:       `"` + shell + `" /S /C "` + script + `"`,
		CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP,
	}
	cmd.Cancel = func() error {
		kill := exec.Command("taskkill", "/T", "/F", "/PID", strconv.Itoa(cmd.Process.Pid))
		if err := kill.Run(); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	return cmd
}
