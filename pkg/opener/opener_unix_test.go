//go:build unix

package opener

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// recorder is a browser command that writes its arguments, one a line, to
// a named pipe; reading the pipe waits for it to have started.
func recorder(t *testing.T) (command string, args func() []string) {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "args")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "browser")
	body := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + fifo + "\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return script, func() []string {
		got := make(chan string, 1)
		go func() {
			f, err := os.Open(fifo) // blocks until the browser opens it
			if err != nil {
				got <- "open: " + err.Error()
				return
			}
			defer f.Close()
			data, _ := io.ReadAll(f)
			got <- string(data)
		}()
		select {
		case s := <-got:
			return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		case <-time.After(10 * time.Second):
			t.Fatal("the browser command never ran")
			return nil
		}
	}
}

func TestOpenRunsBrowserCommands(t *testing.T) {
	const url = "https://login.example.test/authorize?client_id=x&state=y"
	tests := []struct {
		name    string
		browser func(script string) string
		want    []string
	}{
		{"placeholder", func(s string) string { return s + " --new-window %s" }, []string{"--new-window", url}},
		{"URL appended", func(s string) string { return s }, []string{url}},
		{"first that starts", func(s string) string { return "/nonexistent/browser:" + s + " -x" }, []string{"-x", url}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script, args := recorder(t)
			if err := (System{Getenv: browserVar(tt.browser(script))}).Open(url); err != nil {
				t.Fatalf("Open: %v", err)
			}
			got := args()
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("browser arguments = %q, want %q", got, tt.want)
			}
		})
	}
}
