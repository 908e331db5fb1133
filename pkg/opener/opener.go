// Package opener opens a URL in the person's web browser: the commands
// named by $BROWSER when it is set, else the desktop's own handler (through
// github.com/pkg/browser). It only starts the browser; it never waits for
// it, reads from it, or knows what the URL is for.
package opener

import (
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/pkg/browser"
)

// System opens URLs the way this system does. Getenv reads the
// environment; $BROWSER is a command, or a colon-separated list of
// commands tried in turn, where %s stands for the URL (appended when
// absent), the convention xdg-open follows too.
type System struct {
	Getenv func(string) string
}

// Open starts a browser on url. With $BROWSER set, the first command that
// starts wins and the first failure is returned when none does; the
// desktop's handler is then not tried, since the person chose otherwise.
func (s System) Open(url string) error {
	if list := s.Getenv("BROWSER"); list != "" {
		var firstErr error
		for _, command := range strings.Split(list, ":") {
			if err := startCommand(command, url); err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			return nil
		}
		return firstErr
	}
	// pkg/browser would copy the helper's output to our stdout, which is
	// for data only.
	browser.Stdout = io.Discard
	browser.Stderr = io.Discard
	return browser.OpenURL(url)
}

// startCommand starts the command without waiting for it: a terminal
// browser such as lynx would otherwise block the prompt.
func startCommand(command, url string) error {
	fields := strings.Fields(command)
	if len(fields) == 0 {
		return fmt.Errorf("BROWSER is empty")
	}
	substituted := false
	for i, f := range fields {
		if strings.Contains(f, "%s") {
			fields[i] = strings.ReplaceAll(f, "%s", url)
			substituted = true
		}
	}
	if !substituted {
		fields = append(fields, url)
	}
	cmd := exec.Command(fields[0], fields[1:]...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("BROWSER=%s: %w", command, err)
	}
	go cmd.Wait() // reap it whenever it ends
	return nil
}
