package cli_test

import (
	"bytes"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// The no-leak tests run whole scenarios with the real binary, keep
// everything it printed, wrote and passed on, then ask the double for every
// credential it issued or holds and search for each of them. stdout of
// "token" is left out: printing the token there is its job.

const (
	confClientID = "5d2c8e1f-3b4a-4f6e-9d7c-2a1b0c9d8e7f"
	confRedirect = "https://app.example.com/ms365auth/callback"
	// confSecret is long enough for the 32-character prefix match.
	confSecret = "Qx8~kR3vN.pL7wT2_mZ9cB4yH6jF1dS5aG0eU-confidential"
)

// evidence is everything a scenario exposed, by where it was seen.
type evidence map[string]string

func (e evidence) add(where string, r result) {
	e[where+" (stderr)"] = r.stderr
	e[where+" (stdout)"] = r.stdout
}

// addTokenCommand records only stderr: stdout carries a token on purpose.
func (e evidence) addTokenCommand(where string, r result) {
	e[where+" (stderr)"] = r.stderr
}

// check fails for every credential (or its first 32 characters) found in
// the evidence.
func (e evidence) check(t *testing.T, secrets []string) {
	t.Helper()
	if len(secrets) == 0 {
		t.Fatal("no credentials to look for")
	}
	slices.Sort(secrets)
	for _, s := range slices.Compact(secrets) {
		needle := s
		if len(needle) > 32 {
			needle = needle[:32]
		}
		if len(needle) < 12 {
			t.Fatalf("credential too short to search for safely: %d characters", len(needle))
		}
		for where, text := range e {
			if strings.Contains(text, needle) {
				t.Errorf("a credential (%d characters, starting %.6s…) appears in %s", len(s), s, where)
			}
		}
	}
}

// addTree records every file below dir.
func (e evidence) addTree(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("reading %s: %v", path, err)
			return nil
		}
		e["file "+path] = string(data)
		return nil
	})
}

// linkWatched runs "link" like harness.link, and while the process waits for
// the returned URL it records its command line from /proc, as any other
// user of the machine could read it.
func (h *harness) linkWatched(ev evidence, where string, extraEnv []string, respond func(string) string, args ...string) result {
	h.t.Helper()
	answered := false
	r := h.sessionWith(append(append([]string{}, h.env...), extraEnv...), func(line string, stdin io.WriteCloser, cmd *exec.Cmd) {
		if answered || !isSignInLink(line) {
			return
		}
		answered = true
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cmdline")
		if err != nil {
			h.t.Errorf("reading the command line of link: %v", err)
		}
		ev[where+" (/proc/pid/cmdline)"] = string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		io.WriteString(stdin, respond(line)+"\n")
		stdin.Close()
	}, append([]string{"link"}, args...)...)
	if !answered {
		h.t.Fatalf("link never printed a sign-in link:\n%s", r.stderr)
	}
	ev.add(where, r)
	return r
}

func TestNoCredentialLeaks(t *testing.T) {
	h := newHarness(t)
	h.srv.AddApp(entrasim.App{
		ClientID: confClientID, MultiTenant: true,
		Redirects: []entrasim.Redirect{{URI: confRedirect, Platform: entrasim.Web}},
		Secrets:   []entrasim.Secret{{ID: "0a0a0a0a-0000-4000-8000-000000000002", Value: confSecret}},
	})
	t.Cleanup(func() {
		for _, p := range []string{"conf", "conf2", "two", "mailbox"} {
			cmd := exec.Command(binary, "logout", "--profile", p)
			cmd.Env = h.env
			cmd.Run()
		}
	})
	ev := evidence{}
	run := func(where string, args ...string) result {
		r := h.run("", args...)
		ev.add(where, r)
		return r
	}
	must := func(r result, want int, what string) {
		t.Helper()
		if r.code != want {
			t.Fatalf("%s: exit %d, want %d:\n%s", what, r.code, want, r.stderr)
		}
	}

	// Link, both kinds of client.
	must(h.linkWatched(ev, "link", nil, h.signIn, "--no-browser", "--client-id", testClientID, "--scopes", "calendar"), 0, "link")
	must(h.linkWatched(ev, "link with imap", nil, h.signIn, "--no-browser", "--profile", "mailbox", "--client-id", testClientID, "--scopes", "mail,imap"), 0, "link with imap")
	secretEnv := []string{"MS365AUTH_CLIENT_SECRET=" + confSecret}
	must(h.linkWatched(ev, "link confidential", secretEnv, h.signIn, "--no-browser", "--profile", "conf", "--client-id", confClientID, "--redirect-uri", confRedirect), 0, "confidential link")

	// Everyday commands.
	must(run("status", "status"), 0, "status")
	must(run("status --json", "status", "--json"), 0, "status --json")
	run("status --all", "status", "--all", "--json")
	var tokenOut string
	for _, args := range [][]string{{"token"}, {"token", "--profile", "mailbox", "--scopes", "imap"}, {"token", "--profile", "conf"}, {"token", "--profile", "conf", "--margin", "2h"}} {
		r := h.run("", args...)
		must(r, 0, strings.Join(args, " "))
		ev.addTokenCommand(strings.Join(args, " "), r)
		if len(args) == 1 {
			tokenOut = r.stdout
		}
	}
	must(run("reauth --non-interactive", "reauth", "--non-interactive"), 0, "reauth")
	must(run("reauth --non-interactive confidential", "reauth", "--non-interactive", "--profile", "conf"), 0, "reauth conf")
	run("doctor", "doctor", "--json")

	// Failures print errors: none may quote what they failed on.
	h.srv.RevokeRefreshTokens()
	notified := filepath.Join(t.TempDir(), "notified")
	must(run("reauth after revocation", "reauth", "--non-interactive", "--notify-cmd", "printf '%s\\n' \"$MS365AUTH_MESSAGE\" \"$MS365AUTH_SIGNIN_URL\" > "+notified), 3, "reauth after revocation")
	if data, err := os.ReadFile(notified); err == nil {
		ev["notify-cmd arguments"] = string(data)
	}
	// The access token stays valid after the refusal; a token for another
	// resource needs the refresh token, so it fails.
	must(run("token after revocation", "token", "--scopes", "imap"), 3, "token after revocation")

	withParam := func(raw, key, value string) string {
		u, _ := url.Parse(raw)
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	var spent string
	failing := []struct {
		where   string
		env     []string
		respond func(string) string
		args    []string
	}{
		{"link, state mismatch", nil, func(l string) string { return withParam(h.signIn(l), "state", "another") }, nil},
		{"link, truncated code", nil, func(l string) string { r := h.signIn(l); return r[:strings.Index(r, "code=")+40] }, nil},
		{"link, secret sent by a public client", secretEnv, h.signIn, nil},
		{"link, wrong secret", []string{"MS365AUTH_CLIENT_SECRET=" + confSecret + "-wrong"}, h.signIn, []string{"--profile", "conf2", "--client-id", confClientID, "--redirect-uri", confRedirect}},
		{"link, spent code", nil, func(l string) string { spent = h.signIn(l); return spent }, nil},
	}
	for _, f := range failing {
		r := h.linkWatched(ev, f.where, f.env, f.respond, append([]string{"--no-browser"}, f.args...)...)
		if f.where != "link, spent code" && r.code == 0 {
			t.Errorf("%s: exit 0, want a failure", f.where)
		}
	}
	start := h.run("", "link", "--print-link", "--profile", "two")
	must(start, 1, "print-link without a client ID")
	start = h.run("", "link", "--print-link", "--profile", "two", "--client-id", testClientID)
	must(start, 0, "print-link")
	returned := h.signIn(strings.TrimSpace(start.stdout))
	must(run("link --returned-url", "link", "--profile", "two", "--returned-url", returned), 0, "returned-url")
	run("link --returned-url again", "link", "--profile", "two", "--returned-url", returned)
	run("link --returned-url spent", "link", "--profile", "two", "--returned-url", spent)

	must(run("logout", "logout"), 0, "logout")
	must(run("logout confidential", "logout", "--profile", "conf", "--forget"), 0, "logout conf")
	run("logout two", "logout", "--profile", "two")
	run("logout mailbox", "logout", "--profile", "mailbox")
	run("status after logout", "status", "--all")

	// What stays on disk: settings, pending sign-ins, anything else.
	ev.addTree(t, h.cfg)
	ev.addTree(t, filepath.Join(filepath.Dir(h.cfg), "state"))

	secrets := append(h.srv.IssuedSecrets(), confSecret)
	// The search is sound: the access token that token printed is among them.
	if printed := strings.TrimSpace(tokenOut); !slices.Contains(secrets, printed) {
		t.Fatalf("the token printed by token (%d characters) is not among the %d issued credentials", len(printed), len(secrets))
	}
	ev.check(t, secrets)
}

// TestChildProcessesGetNoCredentials checks what ms365auth hands to the
// programs it starts: the browser (BROWSER) and --notify-cmd get a URL and a
// message, never a token or the client secret, in their arguments or their
// environment.
func TestChildProcessesGetNoCredentials(t *testing.T) {
	h := newHarness(t)
	h.srv.AddApp(entrasim.App{
		ClientID: confClientID, MultiTenant: true,
		Redirects: []entrasim.Redirect{{URI: confRedirect, Platform: entrasim.Web}},
		Secrets:   []entrasim.Secret{{ID: "0a0a0a0a-0000-4000-8000-000000000002", Value: confSecret}},
	})
	t.Cleanup(func() {
		cmd := exec.Command(binary, "logout", "--profile", "conf")
		cmd.Env = h.env
		cmd.Run()
	})
	dir := t.TempDir()

	// The browser is started without being waited for: it reports through
	// a FIFO, which the test reads with a deadline.
	fifo := filepath.Join(dir, "browser.fifo")
	mkfifo(t, fifo)
	recorder := filepath.Join(dir, "browser.sh")
	script := "#!/bin/sh\n{ printf 'ARGS:'; printf ' %s' \"$@\"; printf '\\nENV:\\n'; env; } > " + fifo + "\n"
	if err := os.WriteFile(recorder, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 1)
	go func() {
		data, _ := os.ReadFile(fifo) // blocks until the browser writes
		seen <- string(data)
	}()

	ev := evidence{}
	secretEnv := []string{"MS365AUTH_CLIENT_SECRET=" + confSecret, "BROWSER=" + recorder + " %s"}
	r := h.linkWatched(ev, "link with a browser", secretEnv, h.signIn, "--profile", "conf", "--client-id", confClientID, "--redirect-uri", confRedirect)
	if r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	select {
	case got := <-seen:
		if !strings.Contains(got, "ARGS: "+h.srv.URL) {
			t.Errorf("the browser did not get the sign-in link:\n%.300s", got)
		}
		ev["browser arguments and environment"] = got
	case <-time.After(30 * time.Second):
		os.WriteFile(fifo, nil, 0) // unblock the reader
		t.Fatal("the browser was never started")
	}

	// A cron job with the secret in its environment, told to notify.
	h.srv.RevokeRefreshTokens()
	notified := filepath.Join(dir, "notified")
	plain := h.env
	h.env = append(append([]string{}, plain...), secretEnv...)
	notify := h.run("", "reauth", "--non-interactive", "--profile", "conf", "--notify-cmd", "env > "+notified)
	h.env = plain
	ev.add("reauth --notify-cmd", notify)
	if notify.code != 3 {
		t.Fatalf("reauth exit %d, want 3:\n%s", notify.code, notify.stderr)
	}
	data, err := os.ReadFile(notified)
	if err != nil {
		t.Fatal(err)
	}
	ev["notify-cmd environment"] = string(data)

	ev.check(t, append(h.srv.IssuedSecrets(), confSecret))
}
