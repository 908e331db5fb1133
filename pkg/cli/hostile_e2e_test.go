package cli_test

// Hostile and broken answers and settings (issue 16): each must end in a
// clear message, with the stored tokens intact and no secret sent astray.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// elsewhere is a server a redirect points to; it counts what reaches it.
func elsewhere(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestTokenEndpointRedirectIsRefused(t *testing.T) {
	h := linked(t, time.Hour)
	dueForRenewal(t, nil)
	before := loadRecord(t, "default")
	evil, hits := elsewhere(t)
	h.srv.Misbehave(100, entrasim.Misbehaviour{RedirectTo: evil.URL + "/steal"})
	r := h.run("", "token", "--margin", "2h")
	if hits.Load() != 0 {
		t.Fatalf("the refresh followed the redirect (%d requests)", hits.Load())
	}
	if r.code != 1 || !strings.Contains(r.stderr, h.srv.URL+"/common/oauth2/v2.0/token") || !strings.Contains(r.stderr, "redirect") ||
		strings.Contains(r.stderr, "temporary failure") {
		t.Errorf("exit %d, stderr %q: want exit 1 naming the token endpoint and the redirect", r.code, r.stderr)
	}
	if after := loadRecord(t, "default"); after.RefreshToken != before.RefreshToken || after.NeedsReauth {
		t.Errorf("a refused redirect changed the stored record")
	}
}

// TestDoctorDiscoveryRedirectIsRefused: even a redirect on the same host
// is not followed; the doctor says where it pointed.
func TestDoctorDiscoveryRedirectIsRefused(t *testing.T) {
	h := newHarness(t)
	h.srv.Misbehave(1, entrasim.Misbehaviour{RedirectTo: h.srv.URL + "/organizations/v2.0/.well-known/openid-configuration"})
	_, c, _ := h.doctor("--client-id", testClientID)
	if a := c["authority"]; a.Status != "fail" || !strings.Contains(a.Summary, "redirect") {
		t.Errorf("authority check: %+v", a)
	}
}

// TestTokenServesAValidTokenThroughCutAnswers: a connection dropped
// mid-answer is a temporary failure, like a 503. (A stalled answer is the
// same error; pkg/flow's TestCutAnswersAreNetworkErrors covers both.)
func TestTokenServesAValidTokenThroughCutAnswers(t *testing.T) {
	h := linked(t, time.Hour)
	dueForRenewal(t, nil)
	current := loadRecord(t, "default").AccessToken
	h.srv.Misbehave(100, entrasim.Misbehaviour{Truncate: true})
	r := h.run("", "token", "--margin", "2h")
	if r.code != 0 || r.stdout != current+"\n" || !strings.Contains(r.stderr, "warning:") {
		t.Errorf("exit %d, same token %t, stderr %q", r.code, r.stdout == current+"\n", r.stderr)
	}
}

// setProfile changes settings of the default profile in config.json.
func (h *harness) setProfile(change map[string]any) {
	h.t.Helper()
	path := filepath.Join(h.cfg, "ms365auth", "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatal(err)
	}
	var cfg map[string]map[string]map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		h.t.Fatal(err)
	}
	for k, v := range change {
		cfg["profiles"]["default"][k] = v
	}
	if data, err = json.Marshal(cfg); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		h.t.Fatal(err)
	}
}

func TestBadAuthoritySettingIsReportedAtOnce(t *testing.T) {
	h := linked(t, time.Hour)
	for _, bad := range []map[string]any{{"authority_host": "login microsoft com"}, {"authority_host": "", "tenant": "no such tenant!"}} {
		h.setProfile(bad)
		before := h.srv.Stats().TokenRequests
		r := h.run("", "token", "--margin", "2h")
		if r.code != 1 || strings.Contains(r.stderr, "temporary") || !strings.Contains(r.stderr, "config.json") ||
			!strings.Contains(r.stderr, "invalid") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
			t.Errorf("%v: exit %d, stderr %q: want exit 1 naming the bad setting and the file", bad, r.code, r.stderr)
		}
		if n := h.srv.Stats().TokenRequests - before; n != 0 {
			t.Errorf("%v: %d token requests", bad, n)
		}
	}
}

// TestTokenRefusesARefreshedTokenAlreadyExpired: a refresh answer whose
// token has no lifetime left is not printed as a fresh token; the rotated
// refresh token is kept all the same.
func TestTokenRefusesARefreshedTokenAlreadyExpired(t *testing.T) {
	h := linked(t, time.Hour)
	before := loadRecord(t, "default")
	for _, lifetime := range []time.Duration{0, -time.Minute} {
		h.srv.SetAccessTokenLifetime(lifetime)
		dueForRenewal(t, nil)
		r := h.run("", "token", "--margin", "2h")
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "expired") {
			t.Errorf("lifetime %v: exit %d, %d bytes on stdout, stderr %q", lifetime, r.code, len(r.stdout), r.stderr)
		}
	}
	if after := loadRecord(t, "default"); after.RefreshToken == before.RefreshToken || after.NeedsReauth {
		t.Errorf("the rotated refresh token was not kept, or the profile was marked")
	}
}

// TestServerEchoingTheRequestLeaksNothing: an error that quotes the request
// body must not bring the refresh token into the output.
func TestServerEchoingTheRequestLeaksNothing(t *testing.T) {
	h := linked(t, time.Hour)
	dueForRenewal(t, nil)
	rec := loadRecord(t, "default")
	h.srv.Misbehave(100, entrasim.Misbehaviour{EchoForm: true})
	r := h.run("", "token", "--margin", "2h")
	if r.code != 1 || !strings.Contains(r.stderr, "AADSTS900144") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	assertNoTokens(t, rec, r.all())
}

// TestServerTextCannotDriveTheTerminal: ID token claims reach link's and
// status's output without escape sequences or bidi overrides.
func TestServerTextCannotDriveTheTerminal(t *testing.T) {
	h := newHarness(t)
	const user = "mallory@contoso.example"
	h.srv.AddUser(entrasim.User{Username: user, Name: "Mallory\x1b]0;pwned\x07\x1b[2J\u202etxt.exe\u009b31m", Password: "pw"})
	h.srv.SignInAs(user)
	r := h.link(h.signIn, "--client-id", testClientID)
	if r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	status := h.run("", "status")
	for name, out := range map[string]string{"link": r.stderr, "status": status.all()} {
		if !strings.Contains(out, "Mallory") || strings.ContainsAny(out, "\x1b\x07\u202e\u009b") {
			t.Errorf("%s output carries control characters: %q", name, out)
		}
	}
}

// waitUntilOpen waits until process pid holds path open.
func waitUntilOpen(t *testing.T, pid int, path string) {
	t.Helper()
	fds := fmt.Sprintf("/proc/%d/fd", pid)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(fds)
		for _, e := range entries {
			if target, _ := os.Readlink(filepath.Join(fds, e.Name())); target == path {
				return
			}
		}
		runtime.Gosched()
	}
	t.Fatalf("process %d never opened %s", pid, path)
}

// TestStoreMoveReadsSettingsUnderTheLock: settings changed while the move
// waits for the profile's lock (a re-link finishing) are not undone.
func TestStoreMoveReadsSettingsUnderTheLock(t *testing.T) {
	h := newHarness(t)
	runtimeDir := t.TempDir()
	h.env = append(h.env, "XDG_RUNTIME_DIR="+runtimeDir)
	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	lockPath := filepath.Join(runtimeDir, "ms365auth", "default.lock")
	lock := flock.New(lockPath)
	if err := lock.Lock(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "store", "move", "--to", "file")
	cmd.Env = h.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntilOpen(t, cmd.Process.Pid, lockPath)
	h.setProfile(map[string]any{"scopes": []string{"Mail.Read", "offline_access", "openid", "profile"}}) // the re-link's change
	lock.Unlock()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("store move: %v\n%s", err, stderr.String())
	}
	var cfg struct {
		Profiles map[string]struct {
			Scopes []string `json:"scopes"`
			Store  string   `json:"store"`
		} `json:"profiles"`
	}
	data, _ := os.ReadFile(filepath.Join(h.cfg, "ms365auth", "config.json"))
	json.Unmarshal(data, &cfg)
	if p := cfg.Profiles["default"]; p.Store != "file" || len(p.Scopes) == 0 || p.Scopes[0] != "Mail.Read" {
		t.Errorf("settings after the move: %+v, want the re-link's scopes and the file store", p)
	}
}

// TestOpenStoreFilesAreReportedAndMadePrivate: a record restored with cp
// (mode 0644) is reported by doctor, and made private again, with a
// warning, by every command that reads it (doctor opens it too).
func TestOpenStoreFilesAreReportedAndMadePrivate(t *testing.T) {
	h := newHarness(t)
	h.withoutBus(t)
	h.useFileStore("")
	f := h.fileStore(t)
	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	record := filepath.Join(f.Dir, "default.record")
	if err := os.Chmod(record, 0o644); err != nil {
		t.Fatal(err)
	}
	_, c, _ := h.doctor()
	if p := c["store.permissions"]; p.Status != "warn" || !strings.Contains(p.Summary, record) {
		t.Errorf("doctor: %+v", p)
	}
	if fi, _ := os.Stat(record); fi.Mode().Perm() != 0o600 {
		t.Errorf("doctor read the record and left mode %04o", fi.Mode().Perm())
	}
	for _, args := range [][]string{{"status"}, {"token"}} {
		os.Chmod(record, 0o644)
		r := h.run("", args...)
		if r.code != 0 || !strings.Contains(r.stderr, "warning: "+record+" was open to other users") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
		if fi, _ := os.Stat(record); fi.Mode().Perm() != 0o600 {
			t.Errorf("%v left mode %04o", args, fi.Mode().Perm())
		}
	}
}

// blockedOnFIFO waits until a thread of process pid waits in open() for a
// FIFO's writer.
func blockedOnFIFO(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
		for _, task := range tasks {
			if wchan, _ := os.ReadFile(task); string(wchan) == "wait_for_partner" {
				return
			}
		}
		runtime.Gosched()
	}
	t.Fatalf("process %d never blocked on the FIFO", pid)
}

// TestSignalsEndAStuckProcess: a settings file that is a FIFO blocks the
// read where no context reaches. A second SIGTERM (sent once the process
// says it is still stopping) ends the process at once, a single one after
// the grace period; either way with SIGTERM's status, 143.
func TestSignalsEndAStuckProcess(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "config.json")
	mkfifo(t, fifo)
	for _, signals := range []int{2, 1} {
		cmd := exec.Command(binary, "status")
		cmd.Env = append(os.Environ(), "MS365AUTH_CONFIG="+fifo)
		stderrPipe, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 10)
		go func() {
			sc := bufio.NewScanner(stderrPipe)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		blockedOnFIFO(t, cmd.Process.Pid)
		cmd.Process.Signal(syscall.SIGTERM)
		var stderr []string
		deadline := time.After(20 * time.Second)
	read:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					break read
				}
				stderr = append(stderr, line)
				if signals == 2 && strings.Contains(line, "still stopping") {
					cmd.Process.Signal(syscall.SIGTERM)
				}
			case <-deadline:
				cmd.Process.Kill()
				t.Errorf("%d SIGTERM: the process survived; stderr %q", signals, stderr)
				break read
			}
		}
		err := cmd.Wait()
		want := map[int]string{1: "interrupted: still busy 5s later, stopped", 2: "interrupted again: stopped at once"}[signals]
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 143 || !strings.Contains(strings.Join(stderr, "\n"), want) {
			t.Errorf("%d SIGTERM: %v, stderr %q; want exit 143 and %q", signals, err, stderr, want)
		}
	}
}
