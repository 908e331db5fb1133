package cli_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/internal/keyringtest"
)

type doctorCheck struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Status  string `json:"status"`
	Summary string `json:"summary"`
	Fix     string `json:"fix"`
	AADSTS  int    `json:"aadsts"`
}

type doctorReport struct {
	Profile string        `json:"profile"`
	OK      bool          `json:"ok"`
	Checks  []doctorCheck `json:"checks"`
}

// doctor runs "doctor --json" and returns the findings by ID.
func (h *harness) doctor(args ...string) (doctorReport, map[string]doctorCheck, result) {
	h.t.Helper()
	r := h.run("", append([]string{"doctor", "--json"}, args...)...)
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		h.t.Fatalf("doctor --json printed no JSON (%v):\n%s\n%s", err, r.stdout, r.stderr)
	}
	byID := map[string]doctorCheck{}
	for _, c := range rep.Checks {
		byID[c.ID] = c
	}
	return rep, byID, r
}

// statuses maps check IDs to their status, for compact comparisons.
func statuses(rep doctorReport) map[string]string {
	m := map[string]string{}
	for _, c := range rep.Checks {
		m[c.ID] = c.Status
	}
	return m
}

func allOK(ids ...string) map[string]string {
	m := map[string]string{}
	for _, id := range ids {
		m[id] = "ok"
	}
	return m
}

var goodChecks = []string{"client-id", "settings", "keyring.bus", "keyring.service", "keyring.unlocked",
	"store.roundtrip", "authority", "tenant", "clock", "redirect-uri", "app"}

func TestDoctorGoodRegistration(t *testing.T) {
	h := newHarness(t)
	rep, _, r := h.doctor("--client-id", testClientID)
	if r.code != 0 || !rep.OK {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	if diff := cmp.Diff(allOK(goodChecks...), statuses(rep)); diff != "" {
		t.Errorf("check statuses mismatch (-want +got):\n%s", diff)
	}

	text := h.run("", "doctor", "--client-id", testClientID)
	if text.code != 0 || !strings.Contains(text.stdout, "No problems found.") || text.stderr != "" {
		t.Errorf("text report (exit %d):\n%s\n%s", text.code, text.stdout, text.stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(text.stdout), "\n") {
		if !strings.HasPrefix(line, "ok  ") && line != "No problems found." {
			t.Errorf("not an ok line: %q", line)
		}
		if strings.Contains(line, "\x1b[") {
			t.Errorf("escape sequence with NO_COLOR and a pipe: %q", line)
		}
	}

	// Doctor changes nothing: no settings written, no keyring item left.
	if _, err := os.Stat(filepath.Join(h.cfg, "ms365auth", "config.json")); !os.IsNotExist(err) {
		t.Errorf("doctor wrote a settings file (%v)", err)
	}
	if out, _ := exec.Command("secret-tool", "search", "--all", "service", "ms365auth").CombinedOutput(); strings.Contains(string(out), "ms365auth-doctor-") {
		t.Errorf("doctor left its test item in the keyring:\n%s", out)
	}
}

func TestDoctorUsesTheLinkedProfile(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	rep, c, r := h.doctor()
	if r.code != 0 || c["client-id"].Summary != testClientID {
		t.Fatalf("exit %d: %+v", r.code, rep)
	}
	if !strings.Contains(c["settings"].Summary, "from the settings file") {
		t.Errorf("settings: %+v", c["settings"])
	}
}

func TestDoctorFindsRegistrationProblems(t *testing.T) {
	const singleTenant = "3e8d1c2b-7a6f-4e5d-9c8b-1a2b3c4d5e6f"
	h := newHarness(t)
	h.srv.AddApp(entrasim.App{ClientID: singleTenant, Redirects: []entrasim.Redirect{{URI: entrasim.NativeClientRedirectURI, Platform: entrasim.MobileDesktop}}})
	cases := []struct {
		name    string
		args    []string
		code    int
		summary []string // in the app check's summary
		fix     string   // in its fix
	}{
		{"unregistered redirect URI", []string{"--client-id", testClientID, "--redirect-uri", "http://localhost/not/registered"},
			50011, []string{"http://localhost/not/registered", "AADSTS50011"}, "Register exactly http://localhost/not/registered"},
		{"unknown client ID", []string{"--client-id", "11111111-2222-4333-8444-555555555555"},
			700016, []string{"11111111-2222-4333-8444-555555555555", "AADSTS700016"}, "Application (client) ID"},
		{"unknown tenant", []string{"--client-id", testClientID, "--tenant", "nosuch.example"},
			90002, []string{"nosuch.example", "AADSTS90002"}, "--tenant"},
		{"single-tenant app on common", []string{"--client-id", singleTenant},
			50194, []string{"single-tenant", "AADSTS50194"}, "--tenant"},
		{"device code, unknown client ID", []string{"--device", "--client-id", "11111111-2222-4333-8444-555555555555"},
			700016, []string{"AADSTS700016"}, "Application (client) ID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.srv.Stats()
			rep, checks, r := h.doctor(c.args...)
			app := checks["app"]
			if r.code != 1 || rep.OK || app.Status != "fail" || app.AADSTS != c.code {
				t.Fatalf("exit %d, app check %+v", r.code, app)
			}
			for _, want := range c.summary {
				if !strings.Contains(app.Summary, want) {
					t.Errorf("app summary lacks %q: %q", want, app.Summary)
				}
			}
			if !strings.Contains(app.Fix, c.fix) {
				t.Errorf("app fix lacks %q: %q", c.fix, app.Fix)
			}
			// Nothing was redeemed: doctor never signs in.
			if after := h.srv.Stats(); after.TokenRequests != before.TokenRequests {
				t.Errorf("doctor made %d token requests", after.TokenRequests-before.TokenRequests)
			}
		})
	}

	t.Run("text output", func(t *testing.T) {
		r := h.run("", "doctor", "--client-id", testClientID, "--redirect-uri", "http://localhost/not/registered")
		if r.code != 1 {
			t.Fatalf("exit %d", r.code)
		}
		lines := strings.Split(r.stdout, "\n")
		for i, line := range lines {
			if strings.HasPrefix(line, "FAIL") {
				if !strings.Contains(line, "AADSTS50011") || i+1 == len(lines) || !strings.Contains(lines[i+1], "fix: Register exactly http://localhost/not/registered") {
					t.Errorf("FAIL line without its fix below:\n%s", r.stdout)
				}
				return
			}
		}
		t.Errorf("no FAIL line:\n%s", r.stdout)
	})
}

func TestDoctorDeviceAndAlt(t *testing.T) {
	h := newHarness(t, entrasim.Redirect{URI: "http://localhost/api/ms365auth", Platform: entrasim.MobileDesktop})
	rep, c, r := h.doctor("--device", "--client-id", testClientID)
	if r.code != 0 || c["app"].Status != "ok" {
		t.Errorf("--device: exit %d: %+v", r.code, rep)
	}
	if _, ok := c["redirect-uri"]; ok {
		t.Errorf("--device checked a redirect URI: %+v", c["redirect-uri"])
	}

	rep, c, r = h.doctor("--alt", "--client-id", testClientID)
	if r.code != 0 || c["listener"].Status != "ok" || c["app"].Status != "ok" {
		t.Errorf("--alt: exit %d: %+v", r.code, rep)
	}

	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	redirect := "http://127.0.0.1:" + strings.Split(busy.Addr().String(), ":")[1] + "/api/ms365auth"
	_, c, r = h.doctor("--alt", "--client-id", testClientID, "--redirect-uri", redirect)
	if l := c["listener"]; r.code != 1 || l.Status != "fail" || !strings.Contains(l.Fix, "already in use") {
		t.Errorf("busy port: exit %d, listener %+v", r.code, l)
	}
}

func TestDoctorSettingsProblems(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name string
		args []string
		want map[string]string // check ID → status, for those that matter
	}{
		{"no client ID", nil, map[string]string{"client-id": "fail", "settings": "ok", "app": "skip", "authority": "ok"}},
		{"client ID not a GUID", []string{"--client-id", "abc~secret-looking.value"}, map[string]string{"client-id": "fail"}},
		{"http redirect URI off loopback", []string{"--client-id", testClientID, "--redirect-uri", "http://example.com/cb"}, map[string]string{"redirect-uri": "fail"}},
		{"invalid tenant", []string{"--client-id", testClientID, "--tenant", "comon"}, map[string]string{"settings": "fail", "authority": "skip", "app": "skip"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, _, r := h.doctor(c.args...)
			got := statuses(rep)
			for id, want := range c.want {
				if got[id] != want {
					t.Errorf("%s: %q, want %q (%+v)", id, got[id], want, rep.Checks)
				}
			}
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			if strings.Contains(r.all(), "abc~secret-looking.value") {
				t.Errorf("a client ID that is not a GUID was printed; it may be a secret")
			}
		})
	}
}

func TestDoctorClockSkewIsAWarning(t *testing.T) {
	h := newHarness(t)
	// The double, behind a front that dates its answers 20 minutes ahead.
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(20*time.Minute).UTC().Format(http.TimeFormat))
		h.srv.Handler().ServeHTTP(w, r)
	}))
	defer front.Close()
	h.env = append(h.env, "MS365AUTH_AUTHORITY_HOST="+front.URL)
	rep, c, r := h.doctor("--client-id", testClientID)
	if r.code != 0 || c["clock"].Status != "warn" || !strings.Contains(c["clock"].Summary, "behind") || c["clock"].Fix == "" {
		t.Errorf("exit %d, clock %+v (%+v)", r.code, c["clock"], rep)
	}
}

func TestDoctorWithoutAKeyring(t *testing.T) {
	cases := []struct {
		name string
		env  func(t *testing.T) []string
		want map[string]string
	}{
		{"bus address points at nothing", func(t *testing.T) []string {
			return []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(t.TempDir(), "no-such-bus")}
		}, map[string]string{"keyring.bus": "fail", "keyring.service": "skip", "keyring.unlocked": "skip", "store.roundtrip": "skip"}},
		{"no bus address and no user bus", func(t *testing.T) []string {
			return []string{"DBUS_SESSION_BUS_ADDRESS=", "XDG_RUNTIME_DIR=" + t.TempDir()}
		}, map[string]string{"keyring.bus": "fail", "keyring.service": "skip", "store.roundtrip": "skip"}},
		{"a bus without a Secret Service", func(t *testing.T) []string {
			keyringtest.Require(t)
			s, err := keyringtest.StartBareBus()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s.Env()
		}, map[string]string{"keyring.bus": "ok", "keyring.service": "fail", "keyring.unlocked": "skip", "store.roundtrip": "skip"}},
		{"a locked keyring", func(t *testing.T) []string {
			keyringtest.Require(t)
			s, err := keyringtest.Start()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if err := s.Lock(); err != nil {
				t.Fatal(err)
			}
			return s.Env()
		}, map[string]string{"keyring.bus": "ok", "keyring.service": "ok", "keyring.unlocked": "fail", "store.roundtrip": "skip"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.env = append(h.env, c.env(t)...)
			rep, checks, r := h.doctor("--client-id", testClientID)
			got := map[string]string{}
			for id := range c.want {
				got[id] = statuses(rep)[id]
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("store checks mismatch (-want +got):\n%s\n%+v", diff, rep.Checks)
			}
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			for id, status := range c.want {
				if status == "fail" && checks[id].Fix == "" {
					t.Errorf("%s failed without a fix: %+v", id, checks[id])
				}
			}
			// The rest of the checks still ran.
			if checks["app"].Status != "ok" {
				t.Errorf("app check: %+v", checks["app"])
			}
		})
	}
}

// Cron and SSH sessions have no DBUS_SESSION_BUS_ADDRESS, but a systemd user
// bus at $XDG_RUNTIME_DIR/bus: doctor names it whether or not the keyring
// client then manages to use it.
func TestDoctorNamesTheUserBus(t *testing.T) {
	keyringtest.Require(t)
	s, err := keyringtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	h := newHarness(t)
	h.env = append(h.env, s.Env()...)
	h.env = append(h.env, "DBUS_SESSION_BUS_ADDRESS=")
	_, c, _ := h.doctor("--client-id", testClientID)
	if bus := c["keyring.bus"]; !strings.Contains(bus.Summary, filepath.Join(s.Dir, "run", "bus")) {
		t.Errorf("the bus check does not name the user bus: %+v", bus)
	}
}
