package cli_test

// Failure paths found in review and acceptance runs: each must lose nothing
// and say what to do.

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

func readConfig(t *testing.T, h *harness) map[string]map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(h.cfg, "ms365auth", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Profiles map[string]map[string]any `json:"profiles"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c.Profiles
}

// TestConcurrentLinksKeepEachOther: a sign-in that waits minutes must not
// undo a link of another profile finished meanwhile.
func TestConcurrentLinksKeepEachOther(t *testing.T) {
	h := newHarness(t, entrasim.Redirect{URI: entrasim.NativeClientRedirectURI, Platform: entrasim.MobileDesktop},
		entrasim.Redirect{URI: "http://localhost/api/ms365auth", Platform: entrasim.MobileDesktop})
	r := h.session(func(line string, _ io.WriteCloser) {
		if isSignInLink(line) {
			// While "work" waits for its browser, "default" links fully.
			if d := h.link(h.signIn, "--client-id", testClientID); d.code != 0 {
				t.Errorf("link default: %s", d.stderr)
			}
			h.browse(line)
		}
	}, "link", "--alt", "--no-browser", "--profile", "work", "--client-id", testClientID)
	if r.code != 0 {
		t.Fatalf("link work: %s", r.stderr)
	}
	profiles := readConfig(t, h)
	if profiles["default"] == nil || profiles["work"] == nil {
		t.Errorf("a profile was lost from the settings: %v", profiles)
	}
	for _, p := range []string{"default", "work"} {
		if st, _ := h.status("--profile", p); st["state"] != "valid" {
			t.Errorf("%s: %v", p, st)
		}
	}
}

// TestReauthKeepsTheClientSecret: a confidential profile stays
// confidential after an interactive reauth, so its refreshes still work.
func TestReauthKeepsTheClientSecret(t *testing.T) {
	const redirect = "http://127.0.0.1:8767/api/ms365_calendar"
	const id = "c0af0000-0000-4000-8000-000000000001"
	h := newHarness(t)
	h.srv.AddApp(entrasim.App{ClientID: id, MultiTenant: true,
		Redirects: []entrasim.Redirect{{URI: redirect, Platform: entrasim.Web}},
		Secrets:   []entrasim.Secret{{ID: "b0b0b0b0-0000-4000-8000-000000000002", Value: "another~secret.value"}}})
	withSecret := append(append([]string{}, h.env...), "MS365AUTH_CLIENT_SECRET=another~secret.value")
	plain := h.env
	h.env = withSecret
	if r := h.session(func(line string, _ io.WriteCloser) {
		if isSignInLink(line) {
			h.browse(line)
		}
	}, "link", "--alt", "--no-browser", "--client-id", id, "--redirect-uri", redirect); r.code != 0 {
		t.Fatalf("link: %s", r.stderr)
	}
	h.env = plain // from now on the secret comes from the keyring

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "reauth", "--force", "--no-browser")
	cmd.Env = h.env
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	go func() {
		buf := make([]byte, 1<<16)
		var out strings.Builder
		for {
			n, err := tty.Read(buf)
			out.Write(buf[:n])
			for _, line := range strings.Split(out.String(), "\n") {
				if line = strings.TrimSpace(line); isSignInLink(line) {
					h.browse(line)
					io.Copy(io.Discard, tty)
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("reauth --force: %v", err)
	}
	if c := readConfig(t, h)["default"]; c["confidential"] != true {
		t.Errorf("reauth dropped confidential: %v", c)
	}
	if r := h.run("", "token", "--margin", "2h"); r.code != 0 {
		t.Errorf("refresh after reauth: exit %d: %s", r.code, r.stderr)
	}
	exec.Command("secret-tool", "clear", "service", "ms365auth", "username", "default:client-secret").Run()
}

// TestTokenForUnconsentedResource: asking for scopes never consented needs
// a person for those scopes only; the profile's own token keeps working.
func TestTokenForUnconsentedResource(t *testing.T) {
	h := linked(t, time.Hour)
	r := h.run("", "token", "--scopes", "smtp")
	if r.code != 3 || !strings.Contains(r.stderr, "reauth --scopes") || !strings.Contains(r.stderr, "SMTP.Send") {
		t.Errorf("token --scopes smtp: exit %d: %s", r.code, r.stderr)
	}
	if r := h.run("", "token"); r.code != 0 {
		t.Errorf("the main token stopped working: exit %d: %s", r.code, r.stderr)
	}
	if st, _ := h.status(); st["state"] != "valid" {
		t.Errorf("status: %v", st)
	}
}

// TestTokenServesAValidTokenWhileTheServerFails: renewing early fails for
// now, but the stored token still works: print it, with a warning.
func TestTokenServesAValidTokenWhileTheServerFails(t *testing.T) {
	h := linked(t, time.Hour)
	dueForRenewal(t, nil)
	current := loadRecord(t, "default").AccessToken
	h.srv.FailTokenRequests(100, 503, 0)
	r := h.run("", "token", "--margin", "2h")
	if r.code != 0 || r.stdout != current+"\n" || !strings.Contains(r.stderr, "warning:") {
		t.Errorf("exit %d, same token %t, stderr %q", r.code, r.stdout == current+"\n", r.stderr)
	}
}

// TestReauthRefusesAnotherAccount: reauth must not put another account's
// tokens under the profile.
func TestReauthRefusesAnotherAccount(t *testing.T) {
	h := linked(t, time.Hour)
	before := loadRecord(t, "default")
	h.srv.AddUser(entrasim.User{Username: "megan@contoso.example", Name: "Megan Bowen", Password: "pw"})
	h.srv.SignInAs("megan@contoso.example")
	transcript, err := h.signInOnTerminal(t, "reauth", "--force", "--no-browser")
	if err == nil || !strings.Contains(transcript, "is linked to adele@contoso.example") {
		t.Fatalf("reauth as another account: %v\n%s", err, transcript)
	}
	if loadRecord(t, "default").AccessToken != before.AccessToken {
		t.Errorf("the other account's tokens were stored")
	}
	reqs := h.srv.AuthorizeRequests()
	if hint := reqs[len(reqs)-1].Get("login_hint"); hint != "adele@contoso.example" {
		t.Errorf("login_hint = %q", hint)
	}
}

// TestReturnedURLFromStandardInput keeps the code out of the process list.
func TestReturnedURLFromStandardInput(t *testing.T) {
	h := newHarness(t)
	start := h.run("", "link", "--client-id", testClientID, "--print-link")
	returned := h.signIn(strings.TrimSpace(start.stdout))
	if r := h.run(returned+"\n", "link", "--returned-url", "-"); r.code != 0 {
		t.Fatalf("--returned-url -: exit %d: %s", r.code, r.stderr)
	}
}
