package account

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/store"
)

// TestClientSecret: where a link finds a confidential app's secret, in
// order, and that --print-link refuses one it would drop.
func TestClientSecret(t *testing.T) {
	f := newFixture(t)
	env := map[string]string{}
	f.svc.d.Getenv = func(k string) string { return env[k] }
	p := f.profile("work")
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	asked := 0
	ask := func() (string, error) { asked++; return "typed", nil }
	check := func(name string, src SecretSource, want string, wantNew bool) {
		t.Helper()
		got, isNew, err := f.svc.ClientSecret(f.keyring, p, src)
		if err != nil || got != want || isNew != wantNew {
			t.Errorf("%s: %q new=%v %v; want %q new=%v", name, got, isNew, err, want, wantNew)
		}
	}
	check("public app", SecretSource{}, "", false)
	check("--confidential", SecretSource{Confidential: true, Ask: ask}, "typed", true)
	check("a file", SecretSource{File: file, Confidential: true, Ask: ask}, "from-file", true)
	env["MS365AUTH_CLIENT_SECRET"] = "from-env"
	check("the environment", SecretSource{File: file, Confidential: true, Ask: ask}, "from-env", true)
	check("--public", SecretSource{Public: true}, "", false)
	if asked != 1 {
		t.Errorf("the person was asked %d times, want once", asked)
	}
	delete(env, "MS365AUTH_CLIENT_SECRET")

	// Kept in the store for a confidential profile.
	p.Confidential = true
	if _, _, err := f.svc.ClientSecret(f.keyring, p, SecretSource{}); err == nil || !strings.Contains(err.Error(), "fix: set MS365AUTH_CLIENT_SECRET") {
		t.Errorf("no kept secret: %v", err)
	}
	if err := f.keyring.SaveSecret("work", "kept"); err != nil {
		t.Fatal(err)
	}
	check("the store", SecretSource{}, "kept", false)

	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte(" \n"), 0o600)
	if _, _, err := f.svc.ClientSecret(f.keyring, p, SecretSource{File: empty}); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("an empty file: %v", err)
	}
	cancelled := errors.New("interrupted")
	if _, isNew, err := f.svc.ClientSecret(f.keyring, p, SecretSource{Confidential: true, Ask: func() (string, error) { return "", cancelled }}); err != cancelled || isNew {
		t.Errorf("a prompt that failed: new=%v %v", isNew, err)
	}

	// --print-link: a secret given now would be dropped.
	for _, src := range []SecretSource{{PrintLink: true, File: file}, {PrintLink: true, Confidential: true, Ask: ask}} {
		if _, _, err := f.svc.ClientSecret(f.keyring, p, src); err == nil || !strings.Contains(err.Error(), "--print-link does not keep a client secret") {
			t.Errorf("%+v: %v", src, err)
		}
	}
	env["MS365AUTH_CLIENT_SECRET"] = "from-env"
	if _, _, err := f.svc.ClientSecret(f.keyring, p, SecretSource{PrintLink: true, Public: true}); err != nil {
		t.Errorf("--print-link --public: %v", err)
	}
}

// TestLinkStores: the store a link keeps its tokens in must answer before
// anyone signs in, and a secret is read from where the profile was.
func TestLinkStores(t *testing.T) {
	f := newFixture(t)
	f.link("work", f.keyring)
	cfg, err := f.settings.Load()
	if err != nil {
		t.Fatal(err)
	}
	p := f.profile("work")
	p.Store = StoreFile
	st, err := f.svc.OpenLinkStore(p)
	if err != nil || st != f.file {
		t.Fatalf("OpenLinkStore: %v %v", st, err)
	}
	secrets, moving, err := f.svc.SecretStore(cfg, p, st)
	if err != nil || secrets != f.keyring || !moving {
		t.Errorf("moving to the file store: secrets in %v, moving %v, %v", secrets, moving, err)
	}
	p.Store = StoreKeyring
	if secrets, moving, err := f.svc.SecretStore(cfg, p, f.keyring); err != nil || secrets != f.keyring || moving {
		t.Errorf("staying: secrets in %v, moving %v, %v", secrets, moving, err)
	}
	if secrets, moving, err := f.svc.SecretStore(cfg, f.profile("new"), f.file); err != nil || secrets != f.file || moving {
		t.Errorf("a first link: secrets in %v, moving %v, %v", secrets, moving, err)
	}
	// A keyring that cannot answer its probe is found out now.
	f.svc.d.OpenStore = func(string) (store.Store, error) {
		return probing{f.keyring, &store.UnavailableError{Cause: "no bus."}}, nil
	}
	if _, err := f.svc.OpenLinkStore(p); !errors.As(err, new(*store.UnavailableError)) {
		t.Errorf("a keyring out of reach was not found out: %v", err)
	}
}

// probing is a store whose probe (as the keyring's) fails with err.
type probing struct {
	*memStore
	err error
}

func (p probing) Probe() error { return p.err }

// TestLinkedAccount: what a link about to replace a profile asks about.
func TestLinkedAccount(t *testing.T) {
	f := newFixture(t)
	if linked, who := f.svc.LinkedAccount(nil); linked || who != "" {
		t.Errorf("no settings: %v %q", linked, who)
	}
	rec := f.link("work", f.keyring)
	p, _, _ := f.settings.Get("work")
	if linked, who := f.svc.LinkedAccount(p); !linked || who != rec.Account || who == "" {
		t.Errorf("linked: %v %q, want %q", linked, who, rec.Account)
	}
	// Unreadable: linked, by nobody known.
	f.keyring.records["work"] = []byte("not json")
	if linked, who := f.svc.LinkedAccount(p); !linked || who != "" {
		t.Errorf("unreadable: %v %q", linked, who)
	}
	if err := f.keyring.Delete("work"); err != nil {
		t.Fatal(err)
	}
	if linked, _ := f.svc.LinkedAccount(p); linked {
		t.Error("logged out, yet linked")
	}
	p.Store = "nosuch" // cannot be opened
	if linked, _ := f.svc.LinkedAccount(p); linked {
		t.Error("a store that cannot be opened counts as linked")
	}
}
