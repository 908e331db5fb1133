//go:build linux

package notify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// alive reports whether pid is a running process (not gone, not a zombie
// waiting for its new parent to reap it).
func alive(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name in brackets.
	s := string(data)
	state := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
	return state != "Z" && state != "X"
}

// TestRunEndsTheWholeGroup: a notifier that outlives its limit is ended
// together with the children it started (issue 21: "sleep 1000" was left
// running, re-parented to PID 1).
func TestRunEndsTheWholeGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	var out bytes.Buffer
	err := Run(context.Background(), `sleep 1000 & echo $! > "$PIDFILE"; wait`, []string{"PIDFILE=" + pidFile, "PATH=/usr/bin:/bin"}, &out, time.Second)
	if err == nil || !strings.Contains(err.Error(), "ran longer than 1s") {
		t.Errorf("Run = %v, want it ended at its limit", err)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	// A killed process may take a moment to be reaped.
	for i := 0; i < 50 && alive(pid); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(pid) {
		t.Errorf("the notifier's child %d (sleep 1000) is still running", pid)
		_ = os.Remove(pidFile)
		p, _ := os.FindProcess(pid)
		p.Kill()
	}
}

// TestRunGivesTheEnvironment: the command sees exactly the environment it
// is given, and its output goes where it is told.
func TestRunGivesTheEnvironment(t *testing.T) {
	var out bytes.Buffer
	if err := Run(context.Background(), `printf '%s|%s' "$MS365AUTH_USER_CODE" "${HOME:-none}"`, []string{"MS365AUTH_USER_CODE=F7KQ2PZ9X"}, &out, Timeout); err != nil {
		t.Fatal(err)
	}
	if out.String() != "F7KQ2PZ9X|none" {
		t.Errorf("output %q", out.String())
	}
	if err := Run(context.Background(), "exit 4", nil, &out, Timeout); err == nil || !strings.Contains(err.Error(), "exit status 4") {
		t.Errorf("a failing command: %v", err)
	}
}
