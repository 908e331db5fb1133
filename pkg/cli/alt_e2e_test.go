package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// session runs the binary and calls onLine for each line it prints on
// stderr, until the process ends.
func (h *harness) session(onLine func(line string, stdin io.WriteCloser), args ...string) result {
	h.t.Helper()
	return h.sessionWith(h.env, func(line string, stdin io.WriteCloser, _ *exec.Cmd) { onLine(line, stdin) }, args...)
}

// sessionWith is session with its own environment, and the running command
// at hand for onLine (its pid, say).
func (h *harness) sessionWith(env []string, onLine func(line string, stdin io.WriteCloser, cmd *exec.Cmd), args ...string) result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = env
	stdin, _ := cmd.StdinPipe()
	stderr, _ := cmd.StderrPipe()
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	sc := bufio.NewScanner(io.TeeReader(stderr, &errb))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		onLine(sc.Text(), stdin, cmd)
	}
	io.Copy(io.Discard, stderr)
	r := result{h.exitCode(args, cmd.Wait(), errb.String()), out.String(), errb.String()}
	h.suggestionsOf(args, env, r, nil)
	return r
}

func isSignInLink(line string) bool {
	return strings.HasPrefix(line, "http") && strings.Contains(line, "/oauth2/v2.0/authorize?")
}

// browse follows the sign-in link through the double to the listener, as a
// browser would, and returns the page the listener served.
func (h *harness) browse(link string) (int, string) {
	h.t.Helper()
	resp, err := h.srv.FollowSignIn(context.Background(), link, nil)
	if err != nil {
		h.t.Errorf("following the sign-in: %v", err)
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestLinkAltPublicClient(t *testing.T) {
	h := newHarness(t, entrasim.Redirect{URI: "http://localhost/api/ms365auth", Platform: entrasim.MobileDesktop})
	var page string
	r := h.session(func(line string, stdin io.WriteCloser) {
		if isSignInLink(line) {
			// A stray request and a forged callback first: neither may end the wait.
			port := strings.Split(strings.Split(line, "redirect_uri=http%3A%2F%2Flocalhost%3A")[1], "%2F")[0]
			base := "http://127.0.0.1:" + port
			if resp, err := http.Get(base + "/favicon.ico"); err == nil {
				resp.Body.Close()
				if resp.StatusCode != 404 {
					t.Errorf("stray request got %d, want 404", resp.StatusCode)
				}
			}
			if resp, err := http.Get(base + "/api/ms365auth?code=forged&state=wrong"); err == nil {
				resp.Body.Close()
				if resp.StatusCode != 400 {
					t.Errorf("forged callback got %d, want 400", resp.StatusCode)
				}
			}
			_, page = h.browse(line)
		}
	}, "link", "--alt", "--no-browser", "--client-id", testClientID)
	if r.code != 0 {
		t.Fatalf("link --alt exit %d:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(page, "This window can be closed") {
		t.Errorf("listener page:\n%s", page)
	}
	rec := loadRecord(t, "default")
	assertNoTokens(t, rec, r.all(), page)
	st, _ := h.status()
	if st["method"] != "alt" || st["state"] != "valid" {
		t.Errorf("status: %v", st)
	}
}

func TestLinkAltConfidentialFixedPort(t *testing.T) {
	const redirect = "http://127.0.0.1:8765/api/ms365_calendar"
	h := newHarness(t)
	h.srv.AddApp(entrasim.App{
		ClientID: "7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", MultiTenant: true,
		Redirects: []entrasim.Redirect{{URI: redirect, Platform: entrasim.Web}},
		Secrets:   []entrasim.Secret{{ID: "b0b0b0b0-0000-4000-8000-000000000001", Value: "s3cr3t~value.for-tests"}},
	})
	h.env = append(h.env, "MS365AUTH_CLIENT_SECRET=s3cr3t~value.for-tests")
	var page string
	r := h.session(func(line string, _ io.WriteCloser) {
		if isSignInLink(line) {
			_, page = h.browse(line)
		}
	}, "link", "--alt", "--no-browser", "--client-id", "7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "--redirect-uri", redirect)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(page, "This window can be closed") {
		t.Errorf("page:\n%s", page)
	}
	if strings.Contains(r.all(), "s3cr3t") {
		t.Errorf("the secret was printed")
	}
	secret, err := exec.Command("secret-tool", "lookup", "service", "ms365auth", "username", "default:client-secret").Output()
	if err != nil || string(secret) != "s3cr3t~value.for-tests" {
		t.Errorf("client secret not kept in the keyring (%v)", err)
	}
	store := exec.Command("secret-tool", "clear", "service", "ms365auth", "username", "default:client-secret")
	store.Run()
}

func TestLinkAltErrorCallbackAndTimeout(t *testing.T) {
	h := newHarness(t, entrasim.Redirect{URI: "http://localhost/api/ms365auth", Platform: entrasim.MobileDesktop})
	h.srv.DenyConsent(true)
	var page string
	r := h.session(func(line string, _ io.WriteCloser) {
		if isSignInLink(line) {
			_, page = h.browse(line)
		}
	}, "link", "--alt", "--no-browser", "--client-id", testClientID)
	if r.code != 1 || !strings.Contains(r.stderr, "AADSTS65004") || !strings.Contains(page, "65004") {
		t.Errorf("exit %d:\n%s\npage:\n%s", r.code, r.stderr, page)
	}

	// The timeout names the registered form of the redirect URI, not this
	// run's random port, and is final: no "yet".
	r = h.run("", "link", "--alt", "--no-browser", "--client-id", testClientID, "--timeout", "300ms")
	if r.code != 1 || !strings.Contains(r.stderr, "check that the redirect URI http://localhost/api/ms365auth is registered for the app (the port is ignored") {
		t.Errorf("timeout: exit %d:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, " yet") {
		t.Errorf("timeout: a final error says \"yet\":\n%s", r.stderr)
	}
}

func TestLinkAltPortInUse(t *testing.T) {
	h := newHarness(t)
	busy := "http://127.0.0.1:8766/cb"
	first := exec.Command(binary, "link", "--alt", "--no-browser", "--client-id", testClientID, "--no-check", "--redirect-uri", busy, "--timeout", "20s")
	first.Env = h.env
	stderr, _ := first.StderrPipe()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.Contains(sc.Text(), "Waiting for the browser") {
	}
	r := h.run("", "link", "--alt", "--no-browser", "--client-id", testClientID, "--no-check", "--redirect-uri", busy)
	if r.code != 1 || !strings.Contains(r.stderr, "8766") || !strings.Contains(r.stderr, "in use") {
		t.Errorf("exit %d:\n%s", r.code, r.stderr)
	}
}

func TestLinkDevice(t *testing.T) {
	h := newHarness(t)
	h.srv.AddApp(entrasim.App{ClientID: "d3a1c3c0-0000-4000-8000-000000000000", MultiTenant: true, AllowPublicClientFlows: true})
	h.srv.SetDeviceInterval(time.Second)
	run := func(decide func(code string) error) result {
		next := false
		return h.session(func(line string, _ io.WriteCloser) {
			if next {
				next = false
				if err := decide(strings.TrimSpace(line)); err != nil {
					t.Errorf("deciding on %q: %v", line, err)
				}
			}
			next = strings.Contains(line, "enter the code")
		}, "link", "--device", "--client-id", "d3a1c3c0-0000-4000-8000-000000000000")
	}
	if r := run(h.srv.ApproveDevice); r.code != 0 {
		t.Fatalf("approved: exit %d:\n%s", r.code, r.stderr)
	}
	if st, _ := h.status(); st["method"] != "device" || st["state"] != "valid" {
		t.Errorf("status: %v", st)
	}
	if r := run(h.srv.DeclineDevice); r.code != 1 || !strings.Contains(r.stderr, "declined") {
		t.Errorf("declined: exit %d:\n%s", r.code, r.stderr)
	}
	h.srv.SetDeviceCodeLifetime(500 * time.Millisecond)
	if r := run(func(string) error { return nil }); r.code != 1 || !strings.Contains(r.stderr, "expired") {
		t.Errorf("expired: exit %d:\n%s", r.code, r.stderr)
	}
}

// TestLinkAltOnTerminal presses Enter before the browser came back: the
// CLI says nothing has arrived and keeps waiting, with a countdown, then
// finishes by itself when the browser lands on the listener.
func TestLinkAltOnTerminal(t *testing.T) {
	h := newHarness(t, entrasim.Redirect{URI: "http://localhost/api/ms365auth", Platform: entrasim.MobileDesktop})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "link", "--alt", "--no-browser", "--client-id", testClientID)
	cmd.Env = h.env
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var transcript strings.Builder
	buf := make([]byte, 4096)
	waitFor := func(s string) {
		t.Helper()
		for !strings.Contains(transcript.String(), s) {
			n, err := tty.Read(buf)
			transcript.Write(buf[:n])
			if err != nil {
				t.Fatalf("waiting for %q: %v\n%s", s, err, transcript.String())
			}
		}
	}
	waitFor("left)")
	tty.Write([]byte("\r"))
	waitFor("nothing has reached http://localhost:")
	var link string
	for _, line := range strings.Split(transcript.String(), "\n") {
		if line = strings.TrimSpace(line); isSignInLink(line) {
			link = line
		}
	}
	if _, page := h.browse(link); !strings.Contains(page, "This window can be closed") {
		t.Errorf("page: %s", page)
	}
	waitFor("Linked adele")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("link --alt: %v\n%s", err, transcript.String())
	}
}
