package account

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// memStore is a Store in memory, safe for concurrent use. It keeps copies,
// as a real store does: a caller changing a record it loaded changes
// nothing stored.
type memStore struct {
	name    string
	mu      sync.Mutex
	records map[string][]byte
	secrets map[string]string
	saves   int
	failAll error // every call fails with it when set
}

func newMemStore(name string) *memStore {
	return &memStore{name: name, records: map[string][]byte{}, secrets: map[string]string{}}
}

func (m *memStore) Name() string { return m.name }
func (m *memStore) Load(p string) (*store.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failAll != nil {
		return nil, m.failAll
	}
	data, ok := m.records[p]
	if !ok {
		return nil, store.ErrNotFound
	}
	var rec store.Record
	return &rec, json.Unmarshal(data, &rec)
}
func (m *memStore) Save(p string, r *store.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failAll != nil {
		return m.failAll
	}
	data, err := json.Marshal(r)
	m.records[p] = data
	m.saves++
	return err
}
func (m *memStore) Delete(p string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.records, p)
	return m.failAll
}
func (m *memStore) LoadSecret(p string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.secrets[p]
	if !ok {
		return "", store.ErrNotFound
	}
	return s, nil
}
func (m *memStore) SaveSecret(p, s string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.secrets[p] = s
	return m.failAll
}
func (m *memStore) DeleteSecret(p string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.secrets, p)
	return m.failAll
}

// fixture is a Service against the Entra double, with memory stores, a
// settings file and lock files in temporary directories, and a clock the
// test moves.
type fixture struct {
	t        *testing.T
	srv      *entrasim.Server
	svc      *Service
	keyring  *memStore
	file     *memStore
	settings *profile.Settings
	now      time.Time
	nowMu    sync.Mutex
	sleeps   []time.Duration
	// extraScopes are added to the scopes profiles ask for.
	extraScopes []string
	// beforeLock, when set, runs as a lock is asked for (once).
	beforeLock func()
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, srv: entrasim.NewServer(), keyring: newMemStore("keyring"), file: newMemStore("file"), now: time.Now()}
	t.Cleanup(f.srv.Close)
	f.settings = profile.SettingsAt(filepath.Join(t.TempDir(), "config.json"))
	runtime := t.TempDir()
	lock := FileLock(func(k string) string { return map[string]string{"XDG_RUNTIME_DIR": runtime}[k] })
	var sleepMu sync.Mutex
	f.svc = New(Deps{
		Settings: f.settings,
		OpenStore: func(name string) (store.Store, error) {
			switch name {
			case "", StoreKeyring:
				return f.keyring, nil
			case StoreFile:
				return f.file, nil
			}
			return nil, unknownStore(name)
		},
		Lock: func(ctx context.Context, name string) (func(), error) {
			if hook := f.beforeLock; hook != nil {
				f.beforeLock = nil
				hook()
			}
			return lock(ctx, name)
		},
		Now:      f.clock,
		Getenv:   func(string) string { return "" },
		StateDir: t.TempDir(),
		Sleep: func(_ context.Context, d time.Duration) error {
			sleepMu.Lock()
			defer sleepMu.Unlock()
			f.sleeps = append(f.sleeps, d)
			return nil
		},
	})
	return f
}

func (f *fixture) clock() time.Time {
	f.nowMu.Lock()
	defer f.nowMu.Unlock()
	return f.now
}

// expireIn makes the access token stored for name in st expire in d from
// the fixture's clock (negative: expired already).
func (f *fixture) expireIn(st store.Store, name string, d time.Duration) *store.Record {
	f.t.Helper()
	rec := f.stored(st, name)
	rec.Expiry = f.clock().Add(d)
	if err := st.Save(name, rec); err != nil {
		f.t.Fatal(err)
	}
	return rec
}

// profile is the settings of a profile for the double's default app.
func (f *fixture) profile(name string) *profile.Profile {
	return &profile.Profile{
		Name: name, ClientID: entrasim.DefaultClientID, Tenant: "common", AuthorityHost: f.srv.URL,
		Scopes: append([]string{"User.Read", "offline_access", "openid", "profile"}, f.extraScopes...), Method: profile.MethodPaste,
		RedirectURI: f.srv.URL + "/common/oauth2/nativeclient",
	}
}

// link signs the default user in for profile name and keeps the result in
// st, as link does.
func (f *fixture) link(name string, st store.Store) *store.Record {
	f.t.Helper()
	p := f.profile(name)
	res := f.signIn(p)
	rec, warnings, err := f.svc.Keep(context.Background(), p, res, KeepOptions{Store: st})
	if err != nil || len(warnings) > 0 {
		f.t.Fatalf("Keep: %v %q", err, warnings)
	}
	return rec
}

func (f *fixture) signIn(p *profile.Profile) *flow.Result {
	f.t.Helper()
	ctx := context.Background()
	auth, err := f.svc.Client(p, "").NewAuthorization(p.RedirectURI, flow.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	returned, err := f.srv.Authorize(ctx, auth.URL)
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := auth.RedeemReturnedURL(ctx, returned)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// stored is the record st holds for name.
func (f *fixture) stored(st store.Store, name string) *store.Record {
	f.t.Helper()
	rec, err := st.Load(name)
	if err != nil {
		f.t.Fatalf("Load(%s): %v", name, err)
	}
	return rec
}
