package cli_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ms365auth/ms365auth/pkg/profile"
)

// completionWorld is a harness whose settings file knows two profiles.
func completionWorld(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	cfg, err := profile.Load(filepath.Join(h.cfg, "ms365auth", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"work", "school"} {
		cfg.Set(&profile.Profile{Name: name, ClientID: testClientID})
	}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestCompletionCandidates asks the binary what a shell would offer, through
// cobra's __complete protocol that every generated script uses: candidates,
// one a line, then ":" and the directive (2 no space, 4 no file names).
func TestCompletionCandidates(t *testing.T) {
	h := completionWorld(t)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"status", "--profile", ""}, []string{"school", "work", ":4"}},
		{[]string{"token", "-p", "w"}, []string{"work", ":4"}},
		{[]string{"--profile", "s"}, []string{"school", ":4"}},
		{[]string{"link", "--scopes", "calendar-s"}, []string{"calendar-shared", "calendar-shared-write", ":6"}},
		{[]string{"reauth", "--scopes", "calendar,mail-s"}, []string{"calendar,mail-send", "calendar,mail-send-shared", ":6"}},
		{[]string{"link", "--tenant", ""}, []string{
			"common\twork, school and personal accounts (default)",
			"organizations\twork and school accounts only",
			"consumers\tpersonal Microsoft accounts only",
			":4",
		}},
	}
	for _, c := range cases {
		r := h.run("", append([]string{"__complete"}, c.args...)...)
		if r.code != 0 {
			t.Errorf("__complete %q: exit %d: %s", c.args, r.code, r.stderr)
			continue
		}
		got := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("__complete %q (-want +got):\n%s", c.args, diff)
		}
	}
}

// TestBashCompletesProfileNames loads the generated bash script into a real
// bash and presses Tab after "ms365auth status --profile ".
func TestBashCompletesProfileNames(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	// The generated script builds on the bash-completion package, as the
	// help of "completion bash" says.
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(bashCompletion); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: install bash-completion (.ci/run does)", bashCompletion)
		}
		t.Skip("the bash-completion package is not installed")
	}
	h := completionWorld(t)
	script := `source ` + bashCompletion + `
source <(ms365auth completion bash)
COMP_LINE="ms365auth status --profile "
COMP_POINT=${#COMP_LINE}
COMP_WORDS=(ms365auth status --profile "")
COMP_CWORD=3
__start_ms365auth
printf '%s\n' "${COMPREPLY[@]}"`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "--norc", "--noprofile", "-c", script)
	cmd.Env = append(h.env, "PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"))
	// Outside a real Tab press bash's compopt complains on stderr; only
	// what lands in COMPREPLY matters.
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, stderr.String())
	}
	got := strings.Fields(string(out))
	if diff := cmp.Diff([]string{"school", "work"}, got); diff != "" {
		t.Errorf("bash offers (-want +got):\n%s", diff)
	}
}

// TestCompletionScripts checks that every shell gets a script that asks the
// binary for candidates.
func TestCompletionScripts(t *testing.T) {
	h := newHarness(t)
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r := h.run("", "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, "__complete") {
			t.Errorf("completion %s: exit %d, %d bytes:\n%s", shell, r.code, len(r.stdout), r.stderr)
		}
	}
}
