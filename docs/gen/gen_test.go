package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ms365auth/ms365auth/pkg/entra"
)

const regenerate = "run `go generate ./...` and commit the result"

// TestTroubleshootingIsCurrent fails while docs/troubleshooting.md differs
// from what the AADSTS table and the template produce.
func TestTroubleshootingIsCurrent(t *testing.T) {
	want, err := troubleshooting()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../troubleshooting.md")
	if err != nil {
		t.Fatalf("%v: %s", err, regenerate)
	}
	if diff := cmp.Diff(lines(want), lines(got)); diff != "" {
		t.Errorf("docs/troubleshooting.md is stale: %s (-generated +committed):\n%s", regenerate, diff)
	}
}

// TestTroubleshootingCoversEveryCode checks the page against the table the
// hints come from, so a template that skips rows cannot pass.
func TestTroubleshootingCoversEveryCode(t *testing.T) {
	page, err := troubleshooting()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range entra.Codes {
		heading := fmt.Sprintf("\n### AADSTS%d\n", c.Code)
		if strings.Count(string(page), heading) != 1 {
			t.Errorf("the page has no single section for AADSTS%d", c.Code)
		}
	}
	for _, ph := range []string{"{redirect_uri}", "{tenant}", "{client_id}"} {
		if strings.Contains(string(page), ph) {
			t.Errorf("the page shows the raw placeholder %s", ph)
		}
	}
}

func TestMarkdown(t *testing.T) {
	cases := []struct {
		in, want string
		wantErr  bool
	}{
		{"Register {redirect_uri} now.", "Register `<redirect URI>` now.", false},
		{"pass --tenant <your tenant ID> instead", "Pass --tenant &lt;your tenant ID&gt; instead", false},
		{"run `ms365auth link --tenant <id>`", "Run `ms365auth link --tenant <id>`", false},
		{"run `ms365auth link --tenant {tenant}`", "", true},
		{"an `unclosed span", "", true},
	}
	for _, c := range cases {
		got, err := markdown(c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("markdown(%q) = %q, %v; want %q, error %t", c.in, got, err, c.want, c.wantErr)
		}
	}
}

// TestReadmeTablesAreCurrent fails while the README's exit status,
// environment and files tables differ from pkg/manual's.
func TestReadmeTablesAreCurrent(t *testing.T) {
	got, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := readme(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lines(want), lines(got)); diff != "" {
		t.Errorf("README.md's tables are stale: %s (-generated +committed):\n%s", regenerate, diff)
	}
}

// TestManPagesAreCurrent fails while docs/man differs from the command
// tree: a page changed, missing, or left over from a removed command.
func TestManPagesAreCurrent(t *testing.T) {
	want, err := manPages()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../man/*.1")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for _, f := range files {
		if got[filepath.Base(f)], err = os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(names(want), names(got)); diff != "" {
		t.Fatalf("docs/man has the wrong pages: %s (-generated +committed):\n%s", regenerate, diff)
	}
	for name := range want {
		if diff := cmp.Diff(lines(want[name]), lines(got[name])); diff != "" {
			t.Errorf("docs/man/%s is stale: %s (-generated +committed):\n%s", name, regenerate, diff)
		}
	}
}

// TestManPagesHaveReferenceSections: every command's page has EXIT STATUS,
// ENVIRONMENT and FILES (the completion scripts' pages need none), and no
// empty list shows as a default (--scopes=[]).
func TestManPagesHaveReferenceSections(t *testing.T) {
	pages, err := manPages()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names(pages) {
		page := string(pages[name])
		if strings.Contains(page, "=[]") {
			t.Errorf("%s shows an empty list as a default", name)
		}
		if strings.HasPrefix(name, "ms365auth-completion") {
			continue
		}
		for _, section := range []string{".SH EXIT STATUS\n", ".SH ENVIRONMENT\n", ".SH FILES\n"} {
			if !strings.Contains(page, section) {
				t.Errorf("%s lacks %s", name, strings.TrimSpace(section))
			}
		}
	}
	for _, want := range []string{"MS365AUTH_SIGNIN_URL", "MS365AUTH_STORE_PASSPHRASE_FILE", "pending\\-PROFILE.json"} {
		if !strings.Contains(string(pages["ms365auth.1"]), want) {
			t.Errorf("ms365auth.1 lacks %s", want)
		}
	}
	if strings.Contains(string(pages["ms365auth-token.1"]), "MS365AUTH_SIGNIN_URL") {
		t.Errorf("ms365auth-token.1 lists a variable only reauth sets")
	}
}

// TestManPagesRender runs man(1) on every page, as `man -l` would show it,
// and fails on any warning from the formatter.
func TestManPagesRender(t *testing.T) {
	if _, err := exec.LookPath("man"); err != nil {
		t.Skip("man is not installed")
	}
	pages, err := manPages()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range names(pages) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pages[name], 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("man", "--warnings", "-l", path)
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Errorf("man -l %s: %v\n%s", name, err, stderr.String())
			continue
		}
		title := strings.ToUpper(strings.TrimSuffix(name, ".1")) + "(1)"
		first, _, _ := strings.Cut(string(out), "\n")
		if !strings.Contains(first, title) || !strings.Contains(string(out), "\nSYNOPSIS\n") {
			t.Errorf("man -l %s does not look like a man page:\n%.300s", name, out)
		}
	}
}

// TestManFindsPagesByName installs the pages the way a package would, in a
// man1 directory, and looks one up by name: `man ms365auth-link`.
func TestManFindsPagesByName(t *testing.T) {
	if _, err := exec.LookPath("man"); err != nil {
		t.Skip("man is not installed")
	}
	pages, err := manPages()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "man1"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range pages {
		if err := os.WriteFile(filepath.Join(root, "man1", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("man", "-M", root, "ms365auth-link")
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--returned-url") {
		t.Errorf("man -M %s ms365auth-link: %v\n%.500s", root, err, out)
	}
}

func lines(b []byte) []string { return strings.Split(string(b), "\n") }

func names(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
