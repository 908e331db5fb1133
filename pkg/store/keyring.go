package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// Keyring is a Store in the OS keyring.
//
// Item names (go-keyring's "user", under Service): the record of profile P
// is item "P" and its client secret item "P:client-secret". A value larger
// than MaxItemSize is split: the item then holds a small manifest and items
// "P#<generation>#<i>" hold the chunks (see manifestPrefix for the
// protocol that keeps readers consistent).
//
// The zero value of each field means its default: Backend the OS keyring,
// Service ServiceName, MaxItemSize no limit, Timeout DefaultTimeout.
type Keyring struct {
	Backend     Backend
	Service     string
	MaxItemSize int           // bytes per item; 0 means no limit (Linux)
	Timeout     time.Duration // per backend call
}

// NewKeyring returns the OS keyring of this process's environment (see
// NewKeyringIn).
func NewKeyring() *Keyring { return NewKeyringIn(os.Getenv) }

// NewKeyringIn returns the OS keyring with this platform's limits and a 3 s
// timeout per call. On systems with a Secret Service its first call finds
// the session bus in the environment getenv reads (FindSessionBus) and
// points go-keyring at it. godbus keeps its first session bus connection
// for the life of the process, so the first keyring to connect decides.
func NewKeyringIn(getenv func(string) string) *Keyring {
	ready := func() error { return nil }
	if UsesSecretService {
		ready = sync.OnceValue(func() error {
			if u := useSessionBus(getenv, os.Setenv, runUserDir()); u != nil {
				return u
			}
			return nil
		})
	}
	return &Keyring{
		Backend:     osKeyring{busReady: ready},
		Service:     ServiceName,
		MaxItemSize: maxItemSize(runtime.GOOS),
		Timeout:     DefaultTimeout,
	}
}

// processKeyring is the backend of a zero Keyring: the OS keyring of this
// process's environment.
var processKeyring = sync.OnceValue(func() Backend { return NewKeyring().Backend })

// osKeyring is go-keyring's package-level provider as a Backend. Before
// each call it makes sure of the session bus (busReady), so that go-keyring
// is never called where it would launch a bus.
type osKeyring struct{ busReady func() error }

func (k osKeyring) Get(service, user string) (string, error) {
	if err := k.busReady(); err != nil {
		return "", err
	}
	return keyring.Get(service, user)
}

func (k osKeyring) Set(service, user, pw string) error {
	if err := k.busReady(); err != nil {
		return err
	}
	return setLabelled(service, user, pw)
}

func (k osKeyring) Delete(service, user string) error {
	if err := k.busReady(); err != nil {
		return err
	}
	return keyring.Delete(service, user)
}

// Name reports "keyring".
func (k *Keyring) Name() string { return "keyring" }

// Load reads the record of profile; ErrNotFound when there is none,
// ErrCorrupt when what is stored cannot be decoded.
func (k *Keyring) Load(profile string) (*Record, error) {
	head, err := recordItem(profile)
	if err != nil {
		return nil, err
	}
	v, err := k.get(head)
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		// The decoder's message may quote stored bytes; keep them out.
		return nil, fmt.Errorf("the record of profile %q is not valid JSON: %w", profile, ErrCorrupt)
	}
	return &r, nil
}

// Save replaces the record of profile. It writes nothing unless r encodes,
// and when it fails the previous record stays readable.
func (k *Keyring) Save(profile string, r *Record) error {
	head, err := recordItem(profile)
	if err != nil {
		return err
	}
	if r == nil {
		return errors.New("no record to save")
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("could not encode the record of profile %q: %w", profile, err)
	}
	return k.put(head, string(b))
}

// Delete removes the record of profile; nothing stored is not an error.
func (k *Keyring) Delete(profile string) error {
	head, err := recordItem(profile)
	if err != nil {
		return err
	}
	return k.remove(head)
}

// LoadSecret reads the client secret of profile; ErrNotFound when none.
func (k *Keyring) LoadSecret(profile string) (string, error) {
	head, err := secretItem(profile)
	if err != nil {
		return "", err
	}
	return k.get(head)
}

// SaveSecret replaces the client secret of profile.
func (k *Keyring) SaveSecret(profile, secret string) error {
	head, err := secretItem(profile)
	if err != nil {
		return err
	}
	if secret == "" {
		return errors.New("the client secret is empty")
	}
	return k.put(head, secret)
}

// DeleteSecret removes the client secret of profile; none is not an error.
func (k *Keyring) DeleteSecret(profile string) error {
	head, err := secretItem(profile)
	if err != nil {
		return err
	}
	return k.remove(head)
}

// probeItem can never name a profile's item ('#' is refused in profile
// names), so reading it costs one round trip and touches nothing.
const probeItem = "ms365auth-probe#"

// Probe checks that the keyring answers, with one read of an item that does
// not exist: nil when it answers (found or not), otherwise the mapped error,
// typically *UnavailableError.
func (k *Keyring) Probe() error {
	_, err := k.call("read", probeItem, func(b Backend, svc string) (string, error) {
		return b.Get(svc, probeItem)
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// maxProfileLen bounds profile names so that item names stay short enough
// for macOS's command-line limit (see DarwinMaxItemSize).
const maxProfileLen = 128

// recordItem and secretItem name a profile's items. Profile names are
// validated by package profile; ':' and '#' are refused here as well because
// they separate the parts of item names, so no profile's items can collide
// with another's.
func recordItem(profile string) (string, error) {
	if err := checkProfile(profile); err != nil {
		return "", err
	}
	return profile, nil
}

func secretItem(profile string) (string, error) {
	if err := checkProfile(profile); err != nil {
		return "", err
	}
	return profile + ":client-secret", nil
}

func checkProfile(profile string) error {
	switch {
	case profile == "":
		return errors.New("empty profile name")
	case len(profile) > maxProfileLen:
		return fmt.Errorf("profile name longer than %d bytes", maxProfileLen)
	case strings.ContainsAny(profile, ":#"):
		return fmt.Errorf("invalid profile name %q: ':' and '#' are not allowed", profile)
	}
	return nil
}

// call runs one backend operation under the timeout and maps its error.
func (k *Keyring) call(op, user string, f func(b Backend, service string) (string, error)) (string, error) {
	b := k.Backend
	if b == nil {
		b = processKeyring()
	}
	svc := k.Service
	if svc == "" {
		svc = ServiceName
	}
	d := k.Timeout
	if d <= 0 {
		d = DefaultTimeout
	}
	v, err := within(op, d, func() (string, error) { return f(b, svc) })
	return v, mapError(op, user, err)
}

// The three primitive operations, each one backend call.

func (k *Keyring) getItem(user string) (string, error) {
	return k.call("read", user, func(b Backend, svc string) (string, error) {
		return b.Get(svc, user)
	})
}

func (k *Keyring) setItem(user, value string) error {
	_, err := k.call("write", user, func(b Backend, svc string) (string, error) {
		return "", b.Set(svc, user, value)
	})
	return err
}

func (k *Keyring) deleteItem(user string) error {
	_, err := k.call("delete", user, func(b Backend, svc string) (string, error) {
		return "", b.Delete(svc, user)
	})
	return err
}
