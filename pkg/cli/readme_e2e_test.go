//go:build unix

package cli_test

// The README's first command and its test command, taken from the README
// itself, so that what a newcomer runs first keeps working as written.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
)

// readmeBlock is the first code block under a heading of README.md.
func readmeBlock(t *testing.T, heading string) string {
	t.Helper()
	block, ok := blockUnder(t, "README.md", heading, 0)
	if !ok {
		t.Fatalf("README.md has no code block under %q", heading)
	}
	return block
}

// TestReadmeInstallCommand runs the README's install command in a checkout
// (this one) with a GOPATH of its own and no GOBIN, as a newcomer would: it
// must install the binary where the README says and print the help.
func TestReadmeInstallCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ms365auth with go install")
	}
	command := strings.TrimSpace(readmeBlock(t, "## Install and try it"))
	if !strings.HasPrefix(command, "go install ./cmd/ms365auth") {
		t.Fatalf("the README's first command changed; check this test still fits:\n%s", command)
	}
	gopath := t.TempDir()
	// The module cache stays where it is (no download); GOPATH is new.
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOBIN=") && !strings.HasPrefix(kv, "GOPATH=") {
			env = append(env, kv)
		}
	}
	env = append(env, "GOPATH="+gopath, "GOMODCACHE="+strings.TrimSpace(string(modcache)))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", command, err, out)
	}
	if _, err := os.Stat(filepath.Join(gopath, "bin", "ms365auth")); err != nil {
		t.Errorf("go install did not put the binary in $(go env GOPATH)/bin: %v", err)
	}
	if !strings.Contains(string(out), "Usage:\n  ms365auth [command]") {
		t.Errorf("%s printed no help:\n%s", command, out)
	}
}

// TestReadmeTestCommandIsCIs: the README's test command is the command CI
// ends with.
func TestReadmeTestCommandIsCIs(t *testing.T) {
	command := strings.TrimSpace(readmeBlock(t, "## Run the tests"))
	data, err := os.ReadFile(filepath.Join("..", "..", ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if last := lines[len(lines)-1]; last != command {
		t.Errorf("the README's test command is %q, but .ci/run ends with %q", command, last)
	}
}

// TestReadmeGoVersionIsGoMods: the Go release the README asks for is the
// one go.mod needs.
func TestReadmeGoVersionIsGoMods(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	got := regexp.MustCompile(`Needs Go (\S+) or later`).FindSubmatch(readme)
	if want == nil || got == nil {
		t.Fatal(`no "Needs Go X or later" in README.md, or no go line in go.mod`)
	}
	if string(got[1]) != string(want[1]) {
		t.Errorf("the README asks for Go %s; go.mod needs %s", got[1], want[1])
	}
}

// TestReadmeListsEveryScopeFeature: the README's list of --scopes
// features is the program's.
func TestReadmeListsEveryScopeFeature(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, list, ok := strings.Cut(string(readme), "or features: ")
	list, _, _ = strings.Cut(list, ". ")
	var got []string
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(list, -1) {
		got = append(got, m[1])
	}
	slices.Sort(got)
	if want := entra.FeatureNames(); !ok || !slices.Equal(got, want) {
		t.Errorf("the README lists the features %q; the program has %q", got, want)
	}
}
