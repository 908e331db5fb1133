// Package account is what ms365auth does with a linked profile's tokens,
// below the command line: it opens the store a profile's settings name,
// hands out access tokens and renews them under the profile's lock, judges
// a profile's state for status, keeps the result of a sign-in, remembers a
// sign-in started in one process and finished in another, and moves a
// profile between stores.
//
// It does not sign anyone in (package flow and the command line do), talk
// to a terminal, or print: it returns records, states and warnings, and
// errors that say what to do. Everything it needs from the outside world
// comes in one Deps value.
package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/interrupt"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/statedir"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// lockWait bounds the wait for another process's lock; longer than a
// refresh may take under it (refreshBudget).
const lockWait = 60 * time.Second

// Deps is everything the package depends on from the outside world, built
// once by the command line (tests build their own).
type Deps struct {
	Settings *profile.Settings
	// OpenStore opens a store by name (StoreKeyring, StoreFile).
	OpenStore func(name string) (store.Store, error)
	// Lock takes a profile's cross-process lock, waiting until ctx ends.
	Lock       func(ctx context.Context, profile string) (unlock func(), err error)
	Now        func() time.Time
	HTTPClient *http.Client
	// Getenv reads the environment (MS365AUTH_STORE).
	Getenv func(string) string
	// StateDir holds pending sign-ins (statedir.Dir); "" when there is none.
	StateDir string
	// Sleep waits between refresh attempts; nil is interrupt.Sleep.
	Sleep func(context.Context, time.Duration) error
}

// FileLock is the Lock of Deps: lock files in statedir.LockDir of the
// environment getenv reads, found when a lock is first asked for.
func FileLock(getenv func(string) string) func(context.Context, string) (func(), error) {
	return func(ctx context.Context, name string) (func(), error) {
		dir, err := statedir.LockDir(getenv)
		if err != nil {
			return nil, err
		}
		return store.Lock(ctx, dir, name)
	}
}

// Service acts on linked profiles with its Deps.
type Service struct{ d Deps }

// New returns a Service using d.
func New(d Deps) *Service {
	if d.Sleep == nil {
		d.Sleep = interrupt.Sleep
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Getenv == nil {
		d.Getenv = func(string) string { return "" }
	}
	return &Service{d: d}
}

// Settings is the settings file the Service reads.
func (s *Service) Settings() *profile.Settings { return s.d.Settings }

// Lock takes profile name's lock, waiting at most lockWait for another
// process to let go of it.
func (s *Service) Lock(ctx context.Context, name string) (unlock func(), err error) {
	ctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	return s.d.Lock(ctx, name)
}

// Locked is a linked profile held under its lock: its settings and its
// store as they were after the lock was taken.
type Locked struct {
	Profile *profile.Profile
	Store   store.Store
	unlock  func()
}

// Unlock lets other processes at the profile again.
func (l *Locked) Unlock() { l.unlock() }

// LockLinked is the one way to act on a linked profile's tokens: it takes
// the profile's lock and only then reads the settings and opens the store
// they name. Settings read before the lock may be stale: "store move"
// switches them under the same lock, and the store they named is emptied
// after the switch.
func (s *Service) LockLinked(ctx context.Context, name string) (*Locked, error) {
	unlock, err := s.Lock(ctx, name)
	if err != nil {
		return nil, err
	}
	p, err := s.Profile(name)
	if err != nil {
		unlock()
		return nil, err
	}
	st, err := s.OpenProfileStore(p)
	if err != nil {
		unlock()
		return nil, err
	}
	return &Locked{Profile: p, Store: st, unlock: unlock}, nil
}

// Profile loads the named profile's settings; a profile that was never
// linked needs a person.
func (s *Service) Profile(name string) (*profile.Profile, error) {
	p, cfg, err := s.d.Settings.Get(name)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, NotLinked(name)
	}
	// A hand-edited authority would otherwise fail every request as if the
	// network were down.
	if _, err := entra.ParseAuthority(p.AuthorityHost, p.Tenant); err != nil {
		return nil, fmt.Errorf("profile %q in %s has a bad setting (correct it there, or link again): %w", name, cfg.Path(), err)
	}
	return p, nil
}

// Client is the OAuth client of profile p, with secret for a confidential
// app ("" for a public one).
func (s *Service) Client(p *profile.Profile, secret string) flow.Client {
	auth, _ := entra.ParseAuthority(p.AuthorityHost, p.Tenant) // validated with the settings
	return flow.Client{
		Authority:    auth,
		ClientID:     p.ClientID,
		ClientSecret: secret,
		Scopes:       p.Scopes,
		HTTPClient:   s.d.HTTPClient,
	}
}

// Linked is what LoadLinked read under the lock.
type Linked struct {
	Profile *profile.Profile
	Store   store.Store
	Record  *store.Record // nil when no tokens are stored
}

// LoadLinked reads a linked profile's settings, store and record under its
// lock, so that it never sees a store that a move has just emptied.
func (s *Service) LoadLinked(ctx context.Context, name string) (*Linked, error) {
	l, err := s.LockLinked(ctx, name)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	rec, err := l.Store.Load(name)
	if errors.Is(err, store.ErrNotFound) {
		rec, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &Linked{Profile: l.Profile, Store: l.Store, Record: rec}, nil
}
