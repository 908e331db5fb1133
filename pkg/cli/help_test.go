package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/manual"
)

// helpOf runs ms365auth with args and returns what it printed.
func helpOf(t *testing.T, args ...string) string {
	t.Helper()
	env := DefaultEnv()
	env.Getenv = func(string) string { return "" }
	root := NewRootCmd(env)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		t.Fatalf("ms365auth %s: %v", strings.Join(args, " "), err)
	}
	return out.String()
}

// TestRootHelpStartsWithTheCommands: the top-level --help shows where a
// newcomer starts and the commands within the first screen (24 lines),
// and sends to the help topic for the reference tables instead of
// printing them.
func TestRootHelpStartsWithTheCommands(t *testing.T) {
	help := helpOf(t, "--help")
	lines := strings.Split(help, "\n")
	commands := -1
	for i, line := range lines {
		if line == "Available Commands:" {
			commands = i
			break
		}
	}
	if commands < 0 || commands+11 > 24 {
		t.Errorf("the command list starts at line %d of --help, want it whole on the first screen:\n%s", commands+1, help)
	}
	if !strings.Contains(help, "\n"+newHere+"\n") {
		t.Errorf("--help does not say %q:\n%s", newHere, help)
	}
	for _, v := range manual.Environment {
		if strings.Contains(help, v.Name+"\n") {
			t.Errorf("--help prints the environment table (%s); it belongs to ms365auth help environment", v.Name)
		}
	}
	if !strings.Contains(help, "ms365auth help environment") || !strings.Contains(help, manual.ExitSummary()) {
		t.Errorf("--help names neither the exit codes nor where the tables are:\n%s", help)
	}
	if len(lines) > 40 {
		t.Errorf("--help is %d lines, want at most 40", len(lines))
	}
}

// TestNewHereCommandRuns: the command the help suggests to a newcomer is
// a command line of this program (its --help runs, with the flag).
func TestNewHereCommandRuns(t *testing.T) {
	args := strings.Fields(strings.TrimPrefix(newHere, "New here? "))
	if args[0] != "ms365auth" {
		t.Fatalf("%q does not start with ms365auth", newHere)
	}
	if help := helpOf(t, append(args[1:], "--help")...); !strings.Contains(help, "--sandbox") {
		t.Errorf("%s --help does not know --sandbox:\n%s", strings.Join(args, " "), help)
	}
}

// TestHelpEnvironmentHasTheTables: ms365auth help environment prints every
// variable and file of the manual, the tables the man pages and the README
// have too.
func TestHelpEnvironmentHasTheTables(t *testing.T) {
	help := helpOf(t, "help", "environment")
	for _, v := range manual.Environment {
		if !strings.Contains(help, "  "+v.Name+"\n") {
			t.Errorf("help environment lacks %s", v.Name)
		}
	}
	for _, f := range manual.Files {
		if !strings.Contains(help, "  "+f.Path+"\n") {
			t.Errorf("help environment lacks %s", f.Path)
		}
	}
	// The summary is wrapped to the terminal's 80 columns like the rest.
	if !strings.Contains(strings.Join(strings.Fields(help), " "), manual.ExitSummary()) {
		t.Errorf("help environment lacks the exit codes:\n%s", help)
	}
}
