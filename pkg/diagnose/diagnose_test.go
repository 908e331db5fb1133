package diagnose

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/internal/keyringtest"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

func TestMain(m *testing.M) { keyringtest.Main(m) }

const (
	testClientID  = "11111111-2222-4333-8444-555555555555"
	altRedirect   = "http://localhost/api/ms365auth"
	defaultMethod = profile.MethodPaste
)

// fixture is an Env against the Entra double, with a file store in a
// temporary directory unless a test opens another.
type fixture struct {
	srv   *entrasim.Server
	env   *Env
	flags profile.Profile // what the command line gives
	cfg   *profile.Config
	dir   string // the file store's
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := entrasim.NewServer()
	t.Cleanup(srv.Close)
	srv.AddApp(entrasim.App{ClientID: testClientID, MultiTenant: true, AllowPublicClientFlows: true, Redirects: []entrasim.Redirect{
		{URI: entrasim.NativeClientRedirectURI, Platform: entrasim.MobileDesktop},
		{URI: altRedirect, Platform: entrasim.MobileDesktop},
	}})
	f := &fixture{srv: srv, cfg: &profile.Config{Profiles: map[string]*profile.Profile{}}, dir: t.TempDir(),
		flags: profile.Profile{Name: "default", ClientID: testClientID, AuthorityHost: srv.URL, Tenant: "common",
			Method: defaultMethod, Scopes: []string{"User.Read", "offline_access", "openid", "profile"}}}
	f.env = &Env{
		Profile:    "default",
		ClientID:   testClientID,
		LoadConfig: func() (*profile.Config, error) { return f.cfg, nil },
		Merge:      f.merge,
		OpenStore: func(name string) (store.Store, error) {
			if name != "file" {
				return nil, errors.New("the tests open only the file store")
			}
			return &store.File{Dir: f.dir}, nil
		},
		HTTPClient: &http.Client{},
		Getenv:     func(string) string { return "" },
		Now:        time.Now,
		Hints: func(p *profile.Profile) entra.HintContext {
			return entra.HintContext{RedirectURI: p.RedirectURI, Tenant: p.Tenant, ClientID: p.ClientID}
		},
		ReauthCommand: func(name string) string { return "ms365auth reauth --profile " + name },
		UnreadableFix: func(err error, name string) string {
			if errors.Is(err, store.ErrPassphrase) {
				return "set the passphrase, or link again: ms365auth link --profile " + name
			}
			return ""
		},
		DefaultRedirectURI: func(method string) string {
			if method == profile.MethodAlt {
				return altRedirect
			}
			return entra.NativeClientRedirectURI
		},
	}
	return f
}

// merge stands in for link's merging: the command line over the stored
// profile, then the method's redirect URI, then validation.
func (f *fixture) merge(cfg *profile.Config, clientID string) (*profile.Profile, error) {
	p := f.flags
	if old := cfg.Get(f.env.Profile); old != nil {
		p = *old
		p.Name = f.env.Profile
	}
	if clientID != "" {
		p.ClientID = clientID
	} else if f.flags.ClientID != "" {
		p.ClientID = f.flags.ClientID
	}
	if p.ClientID == "" {
		return nil, errors.New("--client-id is required the first time a profile is linked")
	}
	if p.Store == "" {
		p.Store = "file"
	}
	if p.RedirectURI == "" && p.Method != profile.MethodDevice {
		p.RedirectURI = f.env.DefaultRedirectURI(p.Method)
	}
	if _, err := entra.ParseAuthority(p.AuthorityHost, p.Tenant); err != nil {
		return nil, err
	}
	return &p, nil
}

func (f *fixture) run(t *testing.T) (Report, map[string]Result) {
	t.Helper()
	f.env.ClientID = f.flags.ClientID
	rep := Run(context.Background(), f.env, Groups())
	byID := map[string]Result{}
	for _, r := range rep.Checks {
		if _, dup := byID[r.ID]; dup {
			t.Errorf("check %s reported twice", r.ID)
		}
		byID[r.ID] = r
	}
	return rep, byID
}

func statuses(rep Report) map[string]Status {
	m := map[string]Status{}
	for _, r := range rep.Checks {
		m[r.ID] = r.Status
	}
	return m
}

func TestGoodRegistration(t *testing.T) {
	f := newFixture(t)
	rep, _ := f.run(t)
	want := map[string]Status{"client-id": OK, "settings": OK, "store.roundtrip": OK, "store.encryption": Warn,
		"authority": OK, "tenant": OK, "clock": OK, "redirect-uri": OK, "app": OK}
	if diff := cmp.Diff(want, statuses(rep)); diff != "" {
		t.Errorf("statuses mismatch (-want +got):\n%s", diff)
	}
	if !rep.OK || rep.Profile != "default" {
		t.Errorf("report %+v", rep)
	}
	var ids []string
	for _, r := range rep.Checks {
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]string{"client-id", "settings", "store.roundtrip", "store.encryption", "authority", "tenant", "clock", "redirect-uri", "app"}, ids); diff != "" {
		t.Errorf("order mismatch (-want +got):\n%s", diff)
	}
	if s := f.srv.Stats(); s.TokenRequests != 0 {
		t.Errorf("doctor made %d token requests: it must never sign in", s.TokenRequests)
	}
	entries, _ := os.ReadDir(f.dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "doctor") {
			t.Errorf("the throwaway record was left behind: %s", e.Name())
		}
	}
}

func TestRegistrationProblems(t *testing.T) {
	cases := []struct {
		name   string
		change func(p *profile.Profile)
		aadsts int
		fix    string
	}{
		{"unknown client ID", func(p *profile.Profile) { p.ClientID = "99999999-2222-4333-8444-555555555555" }, 700016, ""},
		{"redirect URI not registered", func(p *profile.Profile) { p.RedirectURI = "http://localhost/not/registered" }, 50011, "http://localhost/not/registered"},
		{"unknown tenant", func(p *profile.Profile) { p.Tenant = "nosuch.example" }, 90002, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			c.change(&f.flags)
			rep, got := f.run(t)
			app := got["app"]
			if app.Status != Fail || app.AADSTS != c.aadsts || app.Fix == "" || !strings.Contains(app.Fix, c.fix) {
				t.Errorf("app = %+v, want a failure with AADSTS%d and a fix", app, c.aadsts)
			}
			var e *entra.Error
			if !errors.As(app.Cause, &e) || e.Code != c.aadsts {
				t.Errorf("app's cause %v is not the Entra error", app.Cause)
			}
			if rep.OK {
				t.Errorf("the report says OK")
			}
		})
	}
	t.Run("tenant refused", func(t *testing.T) {
		f := newFixture(t)
		f.flags.Tenant = "nosuch.example"
		_, got := f.run(t)
		if tn := got["tenant"]; tn.Status != Fail || tn.AADSTS != 90002 || !strings.Contains(tn.Summary, "nosuch.example") {
			t.Errorf("tenant = %+v", tn)
		}
		if got["authority"].Status != OK {
			t.Errorf("a host that refuses a tenant answers: %+v", got["authority"])
		}
	})
}

// CheckRegistration is what link asks before anyone signs in.
func TestCheckRegistration(t *testing.T) {
	f := newFixture(t)
	p, _ := f.merge(f.cfg, "")
	if r := CheckRegistration(context.Background(), f.env, p, p.RedirectURI); r.Status != OK || r.ID != "app" {
		t.Errorf("registered: %+v", r)
	}
	r := CheckRegistration(context.Background(), f.env, p, "http://localhost/elsewhere")
	if r.Status != Fail || r.AADSTS != 50011 || r.ID != "app" || r.Title != "app registration" {
		t.Errorf("unregistered redirect URI: %+v", r)
	}
}

func TestSettingsProblems(t *testing.T) {
	cases := []struct {
		name  string
		setup func(f *fixture)
		want  map[string]Status
	}{
		{"no client ID", func(f *fixture) { f.flags.ClientID = "" },
			map[string]Status{"client-id": Fail, "settings": OK, "authority": OK, "app": Skip}},
		{"client ID not a GUID", func(f *fixture) { f.flags.ClientID = "abc~secret-looking.value" },
			map[string]Status{"client-id": Fail, "settings": OK, "app": Skip}},
		{"invalid tenant", func(f *fixture) { f.flags.Tenant = "comon" },
			map[string]Status{"settings": Fail, "authority": Skip, "app": Skip, "tenant": "", "redirect-uri": ""}},
		{"settings file unreadable", func(f *fixture) {
			f.env.LoadConfig = func() (*profile.Config, error) { return nil, errors.New("config.json: unexpected end of JSON input") }
		}, map[string]Status{"config": Fail, "settings": OK, "app": OK}},
		{"http redirect URI off loopback", func(f *fixture) { f.flags.RedirectURI = "http://example.com/cb" },
			map[string]Status{"redirect-uri": Fail, "app": Fail}},
		{"sandbox", func(f *fixture) { f.flags.Sandbox = true },
			map[string]Status{"settings": OK, "authority": Skip, "app": Skip, "redirect-uri": ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			c.setup(f)
			rep, got := f.run(t)
			for id, want := range c.want {
				if got[id].Status != want {
					t.Errorf("%s: %q, want %q (%+v)", id, got[id].Status, want, got[id])
				}
				if want == Fail && got[id].Fix == "" {
					t.Errorf("%s failed without a fix", id)
				}
				if want == Skip && !strings.HasPrefix(got[id].Summary, "needs ") && !strings.Contains(got[id].Summary, "sandbox") {
					t.Errorf("%s skipped without saying why: %q", id, got[id].Summary)
				}
			}
			if rep.OK == (c.name != "sandbox") {
				t.Errorf("report OK = %v", rep.OK)
			}
			for _, r := range rep.Checks {
				if strings.Contains(r.Summary+r.Fix, "abc~secret") {
					t.Errorf("a client ID that is not a GUID was repeated; it may be a secret: %+v", r)
				}
			}
		})
	}
}

func TestStoredProfileIsExamined(t *testing.T) {
	f := newFixture(t)
	f.cfg.Profiles["default"] = &profile.Profile{ClientID: testClientID, AuthorityHost: f.srv.URL, Tenant: "common",
		Method: profile.MethodDevice, Store: "file", Scopes: []string{"User.Read", "offline_access", "openid", "profile"}}
	f.flags = profile.Profile{} // no flags: all from the settings file
	_, got := f.run(t)
	if s := got["settings"]; s.Status != OK || !strings.Contains(s.Summary, "from the settings file") || !strings.Contains(s.Summary, "method device") {
		t.Errorf("settings = %+v", s)
	}
	if _, ok := got["redirect-uri"]; ok {
		t.Errorf("device code sign-in has no redirect URI to check: %+v", got["redirect-uri"])
	}
	if a := got["app"]; a.Status != OK || !strings.Contains(a.Summary, "device code endpoint") {
		t.Errorf("app = %+v", a)
	}
}

func TestStoredProfileWithoutClientID(t *testing.T) {
	f := newFixture(t)
	f.cfg.Profiles["default"] = &profile.Profile{AuthorityHost: f.srv.URL, Tenant: "common", Store: "file", Scopes: []string{"User.Read"}}
	f.flags = profile.Profile{}
	_, got := f.run(t)
	if c := got["client-id"]; c.Status != Fail || c.Summary != "none given, and the profile has none" {
		t.Errorf("client-id = %+v", c)
	}
	if got["settings"].Status != OK || got["app"].Status != Skip {
		t.Errorf("the other settings are still checked: settings %+v, app %+v", got["settings"], got["app"])
	}
}

func TestAltListener(t *testing.T) {
	f := newFixture(t)
	f.flags.Method = profile.MethodAlt
	_, got := f.run(t)
	if got["listener"].Status != OK || got["app"].Status != OK {
		t.Errorf("--alt: listener %+v, app %+v", got["listener"], got["app"])
	}

	f.flags.RedirectURI = "http://example.com/api/ms365auth"
	_, got = f.run(t)
	if l, ok := got["listener"]; ok || got["redirect-uri"].Status != Fail {
		t.Errorf("a redirect URI Entra refuses: redirect-uri %+v; the listener was tried: %+v", got["redirect-uri"], l)
	}

	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	f.flags.RedirectURI = "http://" + busy.Addr().String() + "/api/ms365auth"
	_, got = f.run(t)
	if l := got["listener"]; l.Status != Fail || !strings.Contains(l.Fix, "already in use") {
		t.Errorf("busy port: listener %+v", l)
	}
}

func TestAuthorityProblems(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	notEntra := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>a captive portal</html>"))
	}))
	defer notEntra.Close()
	cases := []struct {
		name    string
		host    string
		summary string
		want    map[string]Status
	}{
		{"nobody answers", closed.URL, "did not answer", map[string]Status{"authority": Fail, "tenant": "", "clock": "", "app": Skip}},
		{"not Entra", notEntra.URL, "without an OpenID configuration", map[string]Status{"authority": Fail, "tenant": "", "clock": OK, "app": Skip}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.flags.AuthorityHost = c.host
			_, got := f.run(t)
			for id, want := range c.want {
				if got[id].Status != want {
					t.Errorf("%s: %q, want %q", id, got[id].Status, want)
				}
			}
			if a := got["authority"]; !strings.Contains(a.Summary, c.summary) || a.Fix == "" {
				t.Errorf("authority = %+v", a)
			}
			if got["app"].Summary != "needs the authority host" {
				t.Errorf("app = %+v", got["app"])
			}
		})
	}
}

func TestClockSkew(t *testing.T) {
	for _, c := range []struct {
		offset time.Duration
		status Status
		word   string
	}{
		{20 * time.Minute, Warn, "ahead of"},
		{-20 * time.Minute, Warn, "behind"},
		{2 * time.Minute, OK, "within"},
	} {
		f := newFixture(t)
		f.env.Now = func() time.Time { return time.Now().Add(c.offset) }
		rep, got := f.run(t)
		if cl := got["clock"]; cl.Status != c.status || !strings.Contains(cl.Summary, c.word) || (c.status == Warn) != (cl.Fix != "") {
			t.Errorf("clock %s off: %+v", c.offset, cl)
		}
		if !rep.OK {
			t.Errorf("a skewed clock is a warning, not a failure: %+v", rep.Checks)
		}
	}
}

func TestFileStore(t *testing.T) {
	rec := &store.Record{AccessToken: "at", RefreshToken: "rt", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}
	t.Run("encrypted", func(t *testing.T) {
		f := newFixture(t)
		f.env.OpenStore = func(string) (store.Store, error) {
			return &store.File{Dir: f.dir, Passphrase: "correct horse", PassphraseFrom: store.EnvPassphrase}, nil
		}
		_, got := f.run(t)
		if e := got["store.encryption"]; e.Status != OK || !strings.Contains(e.Summary, store.EnvPassphrase) {
			t.Errorf("encryption = %+v", e)
		}
	})
	t.Run("plain record, passphrase now set", func(t *testing.T) {
		f := newFixture(t)
		if err := (&store.File{Dir: f.dir}).Save("default", rec); err != nil {
			t.Fatal(err)
		}
		f.env.OpenStore = func(string) (store.Store, error) {
			return &store.File{Dir: f.dir, Passphrase: "correct horse", PassphraseFrom: store.EnvPassphrase}, nil
		}
		_, got := f.run(t)
		if e := got["store.encryption"]; e.Status != Warn || e.Fix != "run: ms365auth reauth --profile default" {
			t.Errorf("encryption = %+v", e)
		}
		if r := got["store.record"]; r.Status != OK {
			t.Errorf("record = %+v", r)
		}
	})
	t.Run("wrong passphrase", func(t *testing.T) {
		f := newFixture(t)
		if err := (&store.File{Dir: f.dir, Passphrase: "one"}).Save("default", rec); err != nil {
			t.Fatal(err)
		}
		f.env.OpenStore = func(string) (store.Store, error) { return &store.File{Dir: f.dir, Passphrase: "two"}, nil }
		rep, got := f.run(t)
		if r := got["store.record"]; r.Status != Fail || !strings.Contains(r.Fix, "link --profile default") || !errors.Is(r.Cause, store.ErrPassphrase) {
			t.Errorf("record = %+v", r)
		}
		if got["store.roundtrip"].Status != OK || rep.OK {
			t.Errorf("the round trip works with any passphrase; the profile's record does not: %+v", rep.Checks)
		}
	})
	t.Run("open to others", func(t *testing.T) {
		f := newFixture(t)
		if err := (&store.File{Dir: f.dir}).Save("default", rec); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(f.dir)
		for _, e := range entries {
			if err := os.Chmod(filepath.Join(f.dir, e.Name()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, got := f.run(t)
		if p := got["store.permissions"]; p.Status != Warn || !strings.Contains(p.Summary, f.dir) || p.Fix == "" {
			t.Errorf("permissions = %+v", p)
		}
		if got["store.record"].Status != OK {
			t.Errorf("record = %+v", got["store.record"])
		}
	})
	t.Run("cannot be opened", func(t *testing.T) {
		f := newFixture(t)
		f.env.OpenStore = func(string) (store.Store, error) {
			return nil, errors.New("both passphrase variables are set: set only one")
		}
		rep, got := f.run(t)
		if s := got["store"]; s.Status != Fail || s.Fix == "" {
			t.Errorf("store = %+v", s)
		}
		for _, r := range rep.Checks {
			if strings.HasPrefix(r.ID, "store.") || strings.HasPrefix(r.ID, "keyring.") {
				t.Errorf("a store that cannot be opened was examined further: %+v", r)
			}
		}
		if got["app"].Status != OK {
			t.Errorf("the other checks still ran: %+v", got["app"])
		}
	})
}

// failingBackend is a keyring backend that answers every call with err, as
// go-keyring does on a broken system (the texts are go-keyring's).
type failingBackend struct{ err error }

func (b failingBackend) Get(string, string) (string, error) { return "", b.err }
func (b failingBackend) Set(string, string, string) error   { return b.err }
func (b failingBackend) Delete(string, string) error        { return b.err }

func TestKeyringFailures(t *testing.T) {
	if !store.UsesSecretService {
		t.Skip("no Secret Service on this system")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "bus")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip(err)
	}
	defer l.Close()
	cases := []struct {
		name    string
		bus     string
		backend error
		want    map[string]Status
	}{
		{"no bus", "unix:path=" + filepath.Join(dir, "missing"), nil,
			map[string]Status{"keyring.bus": Fail, "keyring.service": Skip, "keyring.unlocked": Skip, "store.roundtrip": Skip}},
		{"no Secret Service", "unix:path=" + sock, errors.New("The name org.freedesktop.secrets was not provided by any .service files"),
			map[string]Status{"keyring.bus": OK, "keyring.service": Fail, "keyring.unlocked": Skip, "store.roundtrip": Skip}},
		{"locked", "unix:path=" + sock, errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"),
			map[string]Status{"keyring.bus": OK, "keyring.service": OK, "keyring.unlocked": Fail, "store.roundtrip": Skip}},
		{"the client finds no bus", "unix:path=" + sock, errors.New("dial unix " + sock + ": connect: connection refused"),
			map[string]Status{"keyring.bus": Fail, "keyring.service": Skip, "keyring.unlocked": Skip, "store.roundtrip": Skip}},
		{"something else", "unix:path=" + sock, errors.New("org.freedesktop.DBus.Error.AccessDenied"),
			map[string]Status{"keyring.bus": OK, "keyring.service": Fail, "keyring.unlocked": Skip, "store.roundtrip": Skip}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			env := map[string]string{"DBUS_SESSION_BUS_ADDRESS": c.bus, "XDG_RUNTIME_DIR": t.TempDir()}
			f.env.Getenv = func(k string) string { return env[k] }
			f.env.OpenStore = func(string) (store.Store, error) {
				return &store.Keyring{Backend: failingBackend{c.backend}, Timeout: time.Minute}, nil
			}
			rep, got := f.run(t)
			gotStatuses := map[string]Status{}
			for id := range c.want {
				gotStatuses[id] = got[id].Status
			}
			if diff := cmp.Diff(c.want, gotStatuses); diff != "" {
				t.Errorf("keyring checks mismatch (-want +got):\n%s\n%+v", diff, rep.Checks)
			}
			for id, s := range c.want {
				// An error the keyring does not recognise has no known remedy.
				if s == Fail && got[id].Fix == "" && c.name != "something else" {
					t.Errorf("%s failed without a fix: %+v", id, got[id])
				}
			}
			if got["app"].Status != OK {
				t.Errorf("the other checks still ran: %+v", got["app"])
			}
		})
	}
}

// The real keyring, through the private Secret Service keyringtest runs.
func TestRealKeyring(t *testing.T) {
	keyringtest.Require(t)
	f := newFixture(t)
	f.env.Getenv = os.Getenv // keyringtest pointed this process at its bus
	kr := store.NewKeyring()
	f.env.OpenStore = func(string) (store.Store, error) { return kr, nil }
	rep, got := f.run(t)
	want := map[string]Status{"keyring.bus": OK, "keyring.service": OK, "keyring.unlocked": OK, "store.roundtrip": OK}
	for id, s := range want {
		if got[id].Status != s {
			t.Errorf("%s = %+v", id, got[id])
		}
	}
	if _, ok := got["store.record"]; ok || !rep.OK {
		t.Errorf("no record to open yet: %+v", rep.Checks)
	}
	if err := kr.Save("default", &store.Record{AccessToken: "at", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kr.Delete("default") })
	if _, got = f.run(t); got["store.record"].Status != OK {
		t.Errorf("record = %+v", got["store.record"])
	}
}

// A group of its own runs in order, sees earlier results, leaves out what
// does not apply, and has what servers said cleaned.
func TestAGroupOfItsOwn(t *testing.T) {
	f := newFixture(t)
	mail := Group{Name: "mail", Checks: []Check{
		{ID: "mail.imap", Title: "IMAP login", Run: func(_ context.Context, x *Examination) Result {
			if x.Status("app") != OK {
				return skip("needs the app registration")
			}
			return Result{Status: Fail, Summary: "NO \x1b[31mAUTHENTICATE failed", Fix: "grant IMAP.AccessAsUser.All"}
		}},
		{ID: "mail.pop", Title: "POP login", Run: func(context.Context, *Examination) Result { return Result{} }},
	}}
	rep := Run(context.Background(), f.env, append(Groups(), mail))
	last := rep.Checks[len(rep.Checks)-1]
	if last.ID != "mail.imap" || last.Title != "IMAP login" || last.Status != Fail || strings.Contains(last.Summary, "\x1b") {
		t.Errorf("last = %+v\n%+v", last, rep.Checks)
	}
	if rep.OK {
		t.Errorf("a failed check of any group fails the report")
	}
}
