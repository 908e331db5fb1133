package cli

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/pkg/browser"
)

// Browser opens a URL for the person.
type Browser interface {
	Open(url string) error
}

// SystemBrowser honours $BROWSER (a command, or a colon-separated list of
// commands, where %s stands for the URL), else asks the desktop through
// pkg/browser.
type SystemBrowser struct{}

func (SystemBrowser) Open(url string) error {
	if list := os.Getenv("BROWSER"); list != "" {
		var firstErr error
		for _, command := range strings.Split(list, ":") {
			if err := startBrowserCommand(command, url); err != nil {
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

// startBrowserCommand starts the command without waiting for it: a
// terminal browser such as lynx would otherwise block the prompt.
func startBrowserCommand(command, url string) error {
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
