//go:build linux

package cli_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// notification is what one run of --notify-cmd was given.
type notification map[string]string

// cronRun is a reauth running as cron would run it (its own session, no
// terminal, standard input /dev/null), whose --notify-cmd writes its
// MS365AUTH_ variables into a fifo the test reads as a phone would.
type cronRun struct {
	cmd      *exec.Cmd
	out, err bytes.Buffer
	notes    chan notification
	done     chan result
}

// notifyToFifo is a --notify-cmd that hands its variables to the test.
const notifyToFifo = `{ env | grep '^MS365AUTH_' | sort; echo .; } > "$NOTIFY_FIFO"`

func startCronReauth(t *testing.T, h *harness, args ...string) *cronRun {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "notify")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	r := &cronRun{notes: make(chan notification, 4), done: make(chan result, 1)}
	r.cmd = exec.Command(binary, append([]string{"reauth", "--non-interactive", "--notify-cmd", notifyToFifo}, args...)...)
	r.cmd.Env = append(h.env, "NOTIFY_FIFO="+fifo)
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.err
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		// Each notification opens the fifo, writes, and closes it.
		for {
			f, err := os.Open(fifo)
			if err != nil {
				return
			}
			n := notification{}
			sc := bufio.NewScanner(f)
			for sc.Scan() && sc.Text() != "." {
				k, v, _ := strings.Cut(sc.Text(), "=")
				n[k] = v
			}
			f.Close()
			if len(n) == 0 {
				// Reopened while the last writer had not closed yet: its
				// close ended this read before any line of a new one.
				continue
			}
			r.notes <- n
		}
	}()
	go func() {
		err := r.cmd.Wait()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		r.done <- result{code, r.out.String(), r.err.String()}
		// Unblock the reader.
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	}()
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
		}
	})
	return r
}

func (r *cronRun) notification(t *testing.T) notification {
	t.Helper()
	select {
	case n := <-r.notes:
		return n
	case <-time.After(30 * time.Second):
		t.Fatalf("no notification; stderr so far:\n%s", r.err.String())
	}
	return nil
}

func (r *cronRun) wait(t *testing.T) result {
	t.Helper()
	select {
	case res := <-r.done:
		return res
	case <-time.After(60 * time.Second):
		t.Fatal("the run did not end")
	}
	return result{}
}

// deviceHarness is a linked profile "work" whose refresh token Entra
// revoked, so a person must sign in; device codes are polled every second.
func deviceHarness(t *testing.T) (*harness, *store.Record) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--profile", "work", "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link: %s", r.stderr)
	}
	allowDeviceCode(h)
	h.srv.RevokeRefreshTokens()
	rec, err := store.NewKeyring().Load("work")
	if err != nil {
		t.Fatal(err)
	}
	return h, rec
}

// allowDeviceCode turns on "Allow public client flows" for the test app,
// which device code sign-in needs, and polls every second.
func allowDeviceCode(h *harness) {
	h.srv.AddApp(entrasim.App{ClientID: testClientID, MultiTenant: true, AllowPublicClientFlows: true,
		Redirects: []entrasim.Redirect{{URI: entrasim.NativeClientRedirectURI, Platform: entrasim.MobileDesktop}}})
	h.srv.SetDeviceInterval(time.Second)
}

// TestDeviceWaitFromCron: the job needs a person, sends the code to the
// phone, and the person approves it there: the tokens are kept and the
// job exits 0 having printed nothing. Meanwhile a second run says one is
// waiting (exit 3, no second code), and token is not held up by a lock:
// it serves the access token that is still valid, though the failed
// refresh marked the profile, so mail clients keep working meanwhile.
func TestDeviceWaitFromCron(t *testing.T) {
	h, old := deviceHarness(t)
	run := startCronReauth(t, h, "--profile", "work", "--device-wait", "2m")
	n := run.notification(t)
	if n["MS365AUTH_USER_CODE"] == "" || n["MS365AUTH_VERIFICATION_URL"] != h.srv.URL+"/devicelogin" || n["MS365AUTH_SIGNIN_URL"] != "" || n["MS365AUTH_PROFILE"] != "work" {
		t.Fatalf("the notification: %v", n)
	}
	if msg := n["MS365AUTH_MESSAGE"]; !strings.Contains(msg, n["MS365AUTH_USER_CODE"]) || !strings.Contains(msg, n["MS365AUTH_VERIFICATION_URL"]) {
		t.Errorf("the message does not carry the code and address: %q", msg)
	}

	second := h.run("", "reauth", "--profile", "work", "--non-interactive", "--device-wait", "2m", "--notify-cmd", "echo second run notified >&2")
	if second.code != 3 || !strings.Contains(second.stderr, "another run is waiting") || strings.Contains(second.stderr, "second run notified") {
		t.Errorf("second run: exit %d:\n%s", second.code, second.stderr)
	}
	tok := h.run("", "token", "--profile", "work")
	if tok.code != 0 || strings.TrimSpace(tok.stdout) != old.AccessToken {
		t.Errorf("token while a run waits: exit %d, not the valid access token:\n%s", tok.code, tok.stderr)
	}
	if got := len(h.srv.DeviceCodeRequests()); got != 1 {
		t.Errorf("%d device codes were requested, want 1", got)
	}

	// The phone.
	if err := h.srv.ApproveDevice(n["MS365AUTH_USER_CODE"]); err != nil {
		t.Fatal(err)
	}
	approved := time.Now()
	r := run.wait(t)
	t.Logf("from approval to exit: %s", time.Since(approved).Round(time.Millisecond))
	if r.code != 0 || r.all() != "" {
		t.Fatalf("exit %d; cron would mail: %q", r.code, r.all())
	}
	rec, err := store.NewKeyring().Load("work")
	if err != nil || rec.NeedsReauth || rec.RefreshToken == old.RefreshToken {
		t.Fatalf("the new tokens were not kept: %v", err)
	}
	for k, v := range n {
		if strings.Contains(v, rec.AccessToken) || strings.Contains(v, rec.RefreshToken) || strings.Contains(v, old.RefreshToken) {
			t.Errorf("%s carries a token", k)
		}
	}
	if r := h.run("", "reauth", "--profile", "work", "--non-interactive"); r.code != 0 || r.all() != "" {
		t.Errorf("the next cron run: exit %d: %q", r.code, r.all())
	}
}

// TestDeviceWaitFallsBackToTheLink: declined on the phone, or blocked by a
// Conditional Access "Authentication flows" policy (AADSTS53003): the job
// sends the sign-in link and the reason, and exits 3 with one line.
func TestDeviceWaitFallsBackToTheLink(t *testing.T) {
	for _, c := range []struct {
		name   string
		setup  func(*entrasim.Server)
		phone  func(*entrasim.Server, string) error
		reason string
	}{
		{"declined", nil, (*entrasim.Server).DeclineDevice, "declined"},
		{"blocked", func(s *entrasim.Server) { s.BlockDeviceCodeFlow(true) }, func(s *entrasim.Server, code string) error {
			var pe *entrasim.PageError
			if err := s.ApproveDevice(code); !errors.As(err, &pe) || pe.Code != 53003 {
				return err
			}
			return nil
		}, "Conditional Access blocks device code sign-in (AADSTS53003)"},
		{"expired", nil, func(s *entrasim.Server, _ string) error { s.ExpireDeviceCodes(); return nil }, "expired"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, _ := deviceHarness(t)
			if c.setup != nil {
				c.setup(h.srv)
			}
			run := startCronReauth(t, h, "--profile", "work", "--device-wait", "2m")
			n := run.notification(t)
			if err := c.phone(h.srv, n["MS365AUTH_USER_CODE"]); err != nil {
				t.Fatal(err)
			}
			link := run.notification(t)
			r := run.wait(t)
			if r.code != 3 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, c.reason) {
				t.Errorf("exit %d (want 3 with one line saying %q):\n%s", r.code, c.reason, r.stderr)
			}
			if link["MS365AUTH_USER_CODE"] != "" || !isSignInLink(link["MS365AUTH_SIGNIN_URL"]) ||
				!strings.Contains(link["MS365AUTH_MESSAGE"], c.reason) || !strings.Contains(link["MS365AUTH_MESSAGE"], "ms365auth link --profile work --returned-url -") {
				t.Fatalf("the fallback notification: %v", link)
			}
			// The link finishes the sign-in as it does without --device-wait.
			if r := h.run(h.signIn(link["MS365AUTH_SIGNIN_URL"])+"\n", "link", "--profile", "work", "--returned-url", "-"); r.code != 0 {
				t.Errorf("link --returned-url: exit %d:\n%s", r.code, r.stderr)
			}
		})
	}
}

// TestSignInFrequencyInStatus: Entra refuses a refresh with AADSTS70043
// (N = 36000 s); after the new sign-in, status shows the session's end,
// and near it warns with the renewing command and --device-wait.
func TestSignInFrequencyInStatus(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--profile", "work", "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link: %s", r.stderr)
	}
	h.srv.RequireSignInFrequency(36000 * time.Second)
	h.srv.SetClock(func() time.Time { return time.Now().Add(11 * time.Hour) })
	if r := h.run("", "reauth", "--profile", "work", "--non-interactive"); r.code != 3 || !strings.Contains(r.stderr, "70043") {
		t.Fatalf("refresh 11 h after the sign-in: exit %d:\n%s", r.code, r.stderr)
	}
	h.srv.SetClock(nil)
	if r := h.link(h.signIn, "--profile", "work"); r.code != 0 {
		t.Fatalf("the new sign-in: %s", r.stderr)
	}
	st, r := h.status("--profile", "work")
	linked, _ := time.Parse(time.RFC3339, st["linked_at"].(string))
	ends, _ := time.Parse(time.RFC3339, st["session_ends_at"].(string))
	if r.code != 0 || st["session_end_reason"] != "sign_in_frequency" || st["sign_in_frequency_s"] != float64(36000) || ends.Sub(linked) != 10*time.Hour || st["refresh_token_days_left"] == nil {
		t.Fatalf("status --json: exit %d: %v", r.code, st)
	}
	// Nine hours into the session.
	editRecord(t, nil, "work", func(rec *store.Record) { rec.LinkedAt = rec.LinkedAt.Add(-9 * time.Hour) })
	text := h.run("", "status", "--profile", "work")
	if !strings.Contains(text.stdout, "session ends:") || !strings.Contains(text.stdout, "sign-in frequency of 10h") ||
		!strings.Contains(text.stdout, "ms365auth reauth --profile work --force") || !strings.Contains(text.stdout, "--device-wait") {
		t.Errorf("status an hour before the session ends:\n%s", text.stdout)
	}
}

// TestDeviceWaitLeavesTokenServing: new scopes need consent, so the job
// sends a code; while it waits, token goes on serving the profile's valid
// access token (the lock is not held), and the approval adds the scopes.
func TestDeviceWaitLeavesTokenServing(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--profile", "work", "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link: %s", r.stderr)
	}
	allowDeviceCode(h)
	old, err := store.NewKeyring().Load("work")
	if err != nil {
		t.Fatal(err)
	}
	run := startCronReauth(t, h, "--profile", "work", "--scopes", "mail-send", "--device-wait", "2m")
	n := run.notification(t)
	tok := h.run("", "token", "--profile", "work")
	if tok.code != 0 || strings.TrimSpace(tok.stdout) != old.AccessToken {
		t.Errorf("token while a run waits: exit %d:\n%s", tok.code, tok.stderr)
	}
	if err := h.srv.ApproveDevice(n["MS365AUTH_USER_CODE"]); err != nil {
		t.Fatal(err)
	}
	if r := run.wait(t); r.code != 0 || r.all() != "" {
		t.Fatalf("exit %d: %q", r.code, r.all())
	}
	st, _ := h.status("--profile", "work")
	if !strings.Contains(fmt.Sprint(st["scopes"]), "Mail.Send") {
		t.Errorf("the approved sign-in did not add the scope: %v", st["scopes"])
	}
}
