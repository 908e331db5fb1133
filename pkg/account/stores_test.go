package account

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestChooseStore(t *testing.T) {
	s := New(Deps{Getenv: env(map[string]string{EnvStore: "file"})})
	for _, c := range []struct{ flag, remembered, want, err string }{
		{"keyring", "file", "keyring", ""},
		{"", "keyring", "file", ""}, // MS365AUTH_STORE before the remembered one
		{"disk", "", "disk", `unknown store "disk"`},
	} {
		got, err := s.ChooseStore(c.flag, c.remembered)
		if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("ChooseStore(%q, %q) = %q, %v", c.flag, c.remembered, got, err)
		}
	}
	if got, err := New(Deps{}).ChooseStore("", "file"); got != "file" || err != nil {
		t.Errorf("remembered: %q, %v", got, err)
	}
}

func TestProfileStoreName(t *testing.T) {
	p := &profile.Profile{Name: "work", Store: "file"}
	for _, c := range []struct {
		env  string
		p    *profile.Profile
		want string
		err  string
	}{
		{"", nil, StoreKeyring, ""},
		{"file", nil, StoreFile, ""},
		{"", p, StoreFile, ""},
		{"file", p, StoreFile, ""},
		{"keyring", p, "", "ms365auth store move --to keyring --profile work"},
		{"disk", p, "", "MS365AUTH_STORE: unknown store"},
	} {
		s := New(Deps{Getenv: env(map[string]string{EnvStore: c.env})})
		got, err := s.ProfileStoreName(c.p)
		if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("MS365AUTH_STORE=%q: %q, %v", c.env, got, err)
		}
	}
	if _, err := OpenStore("disk", env(nil)); err == nil {
		t.Error("OpenStore accepted an unknown store")
	}
}

func TestMoveStore(t *testing.T) {
	f := newFixture(t)
	rec := f.link("default", f.keyring)
	p, _ := f.svc.Profile("default")
	p.Confidential = true
	f.settings.Save(p)
	f.keyring.SaveSecret("default", "s3cret")

	m, err := f.svc.MoveStore(ctx, "default", StoreFile)
	if err != nil || m.From != StoreKeyring || m.Already || m.Leftover != nil {
		t.Fatalf("MoveStore: %+v, %v", m, err)
	}
	if got := f.stored(f.file, "default"); got.RefreshToken != rec.RefreshToken {
		t.Error("the tokens were not moved")
	}
	if s, _ := f.file.LoadSecret("default"); s != "s3cret" {
		t.Error("the secret was not moved")
	}
	if _, err := f.keyring.Load("default"); !errors.Is(err, store.ErrNotFound) {
		t.Error("the old copy stayed")
	}
	if p, _ := f.svc.Profile("default"); p.Store != StoreFile {
		t.Errorf("settings name %q", p.Store)
	}
	if m, err := f.svc.MoveStore(ctx, "default", StoreFile); err != nil || !m.Already {
		t.Errorf("again: %+v, %v", m, err)
	}
	// A target that cannot keep them: nothing changes.
	f.keyring.failAll = errors.New("refused")
	if _, err := f.svc.MoveStore(ctx, "default", StoreKeyring); err == nil || !strings.Contains(err.Error(), "it stays in the file store") {
		t.Errorf("failed copy: %v", err)
	}
	if p, _ := f.svc.Profile("default"); p.Store != StoreFile {
		t.Error("a failed move switched the settings")
	}
	f.keyring.failAll = nil
	var sr *SignInRequiredError
	f.settings.Save(f.profile("empty"))
	if _, err := f.svc.MoveStore(ctx, "empty", StoreFile); !errors.As(err, &sr) {
		t.Errorf("nothing to move: %v", err)
	}
}

func TestCopyProfileReadsBack(t *testing.T) {
	st := &lyingStore{memStore: newMemStore("file")}
	err := copyProfile(st, "p", &store.Record{AccessToken: "a"}, "")
	if err == nil || !strings.Contains(err.Error(), "differs") {
		t.Errorf("copyProfile = %v", err)
	}
}

// lyingStore loses what it is given, as a broken store would.
type lyingStore struct{ *memStore }

func (l *lyingStore) Load(string) (*store.Record, error) { return &store.Record{}, nil }

// TestKeepMovesAndDrops: a sign-in into another store removes the old
// copy; --public removes a kept secret; a new secret is stored.
func TestKeepMovesAndDrops(t *testing.T) {
	f := newFixture(t)
	f.link("default", f.keyring)
	f.keyring.SaveSecret("default", "old")
	p := f.profile("default")
	p.Confidential = true
	res := f.signIn(p)
	rec, warnings, err := f.svc.Keep(ctx, p, res, KeepOptions{Store: f.file, Secret: "new", SecretIsNew: true})
	if err != nil || len(warnings) > 0 || rec == nil {
		t.Fatalf("Keep: %v %q", err, warnings)
	}
	if _, err := f.keyring.Load("default"); !errors.Is(err, store.ErrNotFound) {
		t.Error("the old store kept the tokens")
	}
	if s, _ := f.file.LoadSecret("default"); s != "new" {
		t.Errorf("secret %q", s)
	}
	got, _ := f.svc.Profile("default")
	if got.Store != StoreFile || !got.Confidential {
		t.Errorf("settings: %+v", got)
	}
	// --public: the secret goes, and the settings say so.
	if _, _, err := f.svc.Keep(ctx, got, f.signIn(got), KeepOptions{Store: f.file, Public: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.file.LoadSecret("default"); !errors.Is(err, store.ErrNotFound) {
		t.Error("--public left the secret")
	}
	// A store that refuses the tokens leaves the earlier ones.
	before := f.stored(f.file, "default")
	res = f.signIn(got)
	f.file.failAll = errors.New("disk full")
	if _, _, err := f.svc.Keep(ctx, got, res, KeepOptions{Store: f.file}); err == nil || !strings.Contains(err.Error(), "the earlier tokens are unchanged") {
		t.Errorf("Keep into a failing store: %v", err)
	}
	f.file.failAll = nil
	if f.stored(f.file, "default").AccessToken != before.AccessToken {
		t.Error("a failed keep changed the tokens")
	}
}

func TestKeepWarnsOfALeftover(t *testing.T) {
	f := newFixture(t)
	f.link("default", f.keyring)
	f.keyring.failAll = &store.UnavailableError{Cause: "the keyring is locked."}
	_, warnings, err := f.svc.Keep(ctx, f.profile("default"), f.signIn(f.profile("default")), KeepOptions{Store: f.file})
	if err != nil || len(warnings) != 1 || !strings.HasSuffix(warnings[0], "from the keyring store: the keyring is locked") {
		t.Errorf("Keep: %v %q", err, warnings)
	}
}

func TestPending(t *testing.T) {
	f := newFixture(t)
	p := f.profile("work")
	auth, err := f.svc.Client(p, "").NewAuthorization(p.RedirectURI, flow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.LoadPending("work"); err == nil || !strings.Contains(err.Error(), "ms365auth link --profile work --client-id <application ID> --print-link") {
		t.Errorf("none waiting: %v", err)
	}
	if err := f.svc.SavePending(p, auth); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.LoadPending("work")
	if err != nil || got.State != auth.State || got.Verifier != auth.Verifier() || got.Profile.ClientID != p.ClientID || got.Profile.Name != "work" {
		t.Fatalf("LoadPending: %+v, %v", got, err)
	}
	f.nowMu.Lock()
	f.now = f.now.Add(PendingLifetime + time.Second)
	f.nowMu.Unlock()
	if _, err := f.svc.LoadPending("work"); err == nil || !strings.Contains(err.Error(), "older than 10 minutes") {
		t.Errorf("expired: %v", err)
	}
	if _, err := f.svc.LoadPending("work"); err == nil || !strings.Contains(err.Error(), "no sign-in is waiting") {
		t.Errorf("an expired pending sign-in was kept: %v", err)
	}
	f.svc.SavePending(p, auth)
	f.svc.DropPending("work")
	if _, err := f.svc.LoadPending("work"); err == nil {
		t.Error("DropPending left it")
	}
	if err := New(Deps{}).SavePending(p, auth); err == nil || !strings.Contains(err.Error(), "XDG_STATE_HOME") {
		t.Errorf("without a state directory: %v", err)
	}
}

// TestPendingFileIsMadePrivate: a pending sign-in found open to other
// users (a chmod, a restore with cp) is made 0600 again, with a warning.
func TestPendingFileIsMadePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("permission bits say nothing where ACLs decide")
	}
	f := newFixture(t)
	p := f.profile("work")
	auth, err := f.svc.Client(p, "").NewAuthorization(p.RedirectURI, flow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SavePending(p, auth); err != nil {
		t.Fatal(err)
	}
	path, _ := f.svc.pendingPath("work")
	if got, err := f.svc.LoadPending("work"); err != nil || len(got.Warnings) != 0 {
		t.Fatalf("a private file: %v, warnings %q", err, got.Warnings)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.LoadPending("work")
	if err != nil || len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "mode 0644") || !strings.Contains(got.Warnings[0], "0600 again") {
		t.Fatalf("LoadPending: %v, warnings %q", err, got.Warnings)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the pending file is %v after reading, want 0600 (%v)", fi.Mode().Perm(), err)
	}
}

func TestHints(t *testing.T) {
	f := newFixture(t)
	p := f.profile("new")
	p.Method = profile.MethodDevice
	hc := f.svc.HintContext(p)
	if hc.LinkCommand != "ms365auth link --profile new --device --client-id "+p.ClientID || hc.ReauthCommand != hc.LinkCommand {
		t.Errorf("never linked: %+v", hc)
	}
	p.ClientID = "not-a-guid-maybe-a-secret"
	if hc := f.svc.HintContext(p); strings.Contains(hc.LinkCommand, p.ClientID) {
		t.Errorf("a client ID that is no GUID was echoed: %s", hc.LinkCommand)
	}
	f.settings.Save(f.profile("work"))
	if hc := f.svc.HintContext(f.profile("work")); hc.ReauthCommand != "ms365auth reauth --profile work" {
		t.Errorf("linked: %+v", hc)
	}
	sb := f.profile(profile.SandboxName)
	sb.Sandbox = true
	if hc := f.svc.HintContext(sb); hc.ReauthCommand != "ms365auth link --sandbox" {
		t.Errorf("sandbox: %+v", hc)
	}
	if MethodFlag(profile.MethodAlt) != " --alt" || MethodFlag(profile.MethodPaste) != "" {
		t.Error("MethodFlag")
	}
	if f.svc.WithHint(nil, p) != nil {
		t.Error("WithHint(nil)")
	}
	plain := errors.New("plain")
	if f.svc.WithHint(plain, p) != plain {
		t.Error("WithHint changed an error that is not Entra's")
	}
}

func TestErrorsSayWhatToRun(t *testing.T) {
	sr := &SignInRequiredError{Profile: "work", Reason: "why", Fix: "ask an admin", Claims: `{"access_token":{}}`}
	msg := sr.Error()
	if !strings.Contains(msg, `profile "work" needs an interactive sign-in (why); run: ms365auth reauth --profile work --claims `) || !strings.HasSuffix(msg, "\nfix: ask an admin") {
		t.Errorf("Error() = %q", msg)
	}
	te := &TransientError{Err: errors.New("503")}
	if !errors.Is(te, te.Err) || !strings.HasPrefix(te.Error(), "temporary failure, tokens unchanged") {
		t.Errorf("TransientError: %v", te)
	}
	if AccountLabel("a@b", "A B") != "a@b (A B)" || AccountLabel("", "A B") != "A B" || AccountLabel("a@b", "a@b") != "a@b" {
		t.Error("AccountLabel")
	}
	if NotLinked(profile.SandboxName).Run != "ms365auth link --sandbox" {
		t.Error("NotLinked(sandbox)")
	}
}

// TestLongClaimsAreSavedForReauth: a claims challenge too long for a
// command line is saved where reauth finds it, and the command printed is
// a plain reauth; a short one rides on the command as --claims.
func TestLongClaimsAreSavedForReauth(t *testing.T) {
	long := `{"access_token":{"xms_cc":{"values":["` + strings.Repeat("cp1", 100) + `"]}}}`
	short := `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
	for _, claims := range []string{short, long} {
		f := newFixture(t)
		f.link("work", f.keyring)
		f.expireIn(f.keyring, "work", -time.Minute)
		f.srv.RefuseTokenRequests(1, entrasim.TokenError{Error: "invalid_grant", Code: 50076, Suberror: "basic_action", Claims: claims,
			Message: "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication."})
		_, err := f.svc.AccessToken(ctx, "work", TokenRequest{})
		var sr *SignInRequiredError
		if !errors.As(err, &sr) {
			t.Fatalf("err = %v, want a sign-in", err)
		}
		saved, warnings, err := f.svc.SavedClaims("work")
		if err != nil || len(warnings) > 0 {
			t.Fatalf("SavedClaims: %v %q", err, warnings)
		}
		switch claims {
		case short:
			if want := "ms365auth reauth --profile work --claims " + entra.EncodeClaims(short); sr.Command() != want || saved != "" {
				t.Errorf("short claims: command %q, saved %q; want %q, nothing saved", sr.Command(), saved, want)
			}
		case long:
			if sr.Command() != "ms365auth reauth --profile work" || saved != long {
				t.Errorf("long claims: command %.80q, saved %.40q; want a plain reauth, the claims saved", sr.Command(), saved)
			}
			// The marked profile says the same, from the record.
			if _, err := f.svc.AccessToken(ctx, "work", TokenRequest{}); !errors.As(err, &sr) || sr.Command() != "ms365auth reauth --profile work" {
				t.Errorf("second call: %v", err)
			}
			// A sign-in answers it.
			f.link("work", f.keyring)
			if saved, _, _ := f.svc.SavedClaims("work"); saved != "" {
				t.Error("the saved claims outlived the sign-in that answered them")
			}
		}
	}
}

func TestFileStoreWayOutFor(t *testing.T) {
	f := newFixture(t)
	if got, want := f.svc.FileStoreWayOutFor("work", nil), "ms365auth link --profile work --client-id <application ID> --store file"; got != want {
		t.Errorf("no settings: %q, want %q", got, want)
	}
	p := f.profile("work")
	if got, want := f.svc.FileStoreWayOutFor("work", p), f.svc.FileStoreLinkCommand(p); got != want || !strings.Contains(got, " --store file") {
		t.Errorf("with settings: %q, want %q", got, want)
	}
}
