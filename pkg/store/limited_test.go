package store

import (
	"encoding/base64"
	"slices"
	"strings"
	"sync"

	"github.com/zalando/go-keyring"
)

// LimitedBackend is an in-memory Backend for tests that refuses values the
// way the size-limited keyrings do, counts calls, and can fail a chosen Set.
// Its zero value is an empty keyring with no limits; it is safe for
// concurrent use.
type LimitedBackend struct {
	// Limit refuses values longer than this many bytes, as Windows'
	// Credential Manager does (WindowsMaxItemSize); 0 means no limit.
	Limit int
	// CommandLimit refuses a Set whose go-keyring macOS command line
	// (`add-generic-password ... -w 'go-keyring-base64:...'`) would exceed
	// this many bytes, as go-keyring does with 4096; 0 means no limit.
	CommandLimit int

	mu      sync.Mutex
	items   map[[2]string]string // {service, user} -> value
	calls   Calls
	failIn  int // Sets until the injected failure; 0 means none pending
	failErr error
}

// Calls counts a LimitedBackend's calls by kind, failed ones included.
type Calls struct{ Get, Set, Delete int }

// Get returns the value, or go-keyring's ErrNotFound.
func (b *LimitedBackend) Get(service, user string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls.Get++
	v, ok := b.items[[2]string{service, user}]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

// Set stores the value unless it is over a limit (go-keyring's
// ErrSetDataTooBig) or this is the Set chosen by FailSet.
func (b *LimitedBackend) Set(service, user, password string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls.Set++
	if b.failIn > 0 {
		b.failIn--
		if b.failIn == 0 {
			return b.failErr
		}
	}
	if b.Limit > 0 && len(password) > b.Limit {
		return keyring.ErrSetDataTooBig
	}
	if b.CommandLimit > 0 && DarwinCommandLen(service, user, password) > b.CommandLimit {
		return keyring.ErrSetDataTooBig
	}
	if b.items == nil {
		b.items = make(map[[2]string]string)
	}
	b.items[[2]string{service, user}] = password
	return nil
}

// Delete removes the item, or returns go-keyring's ErrNotFound.
func (b *LimitedBackend) Delete(service, user string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls.Delete++
	k := [2]string{service, user}
	if _, ok := b.items[k]; !ok {
		return keyring.ErrNotFound
	}
	delete(b.items, k)
	return nil
}

// FailSet makes the n-th Set from now (1 = the next one) return err without
// storing anything.
func (b *LimitedBackend) FailSet(n int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failIn, b.failErr = n, err
}

// Calls returns the calls made so far.
func (b *LimitedBackend) Calls() Calls {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// ResetCalls sets the call counts to zero.
func (b *LimitedBackend) ResetCalls() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = Calls{}
}

// Users lists the item names stored under service, sorted.
func (b *LimitedBackend) Users(service string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var users []string
	for k := range b.items {
		if k[0] == service {
			users = append(users, k[1])
		}
	}
	slices.Sort(users)
	return users
}

// DarwinCommandLen is the length of the line go-keyring v0.2's macOS Set
// sends to `security -i` for these arguments; go-keyring refuses lines over
// 4096 bytes.
func DarwinCommandLen(service, user, password string) int {
	pw := "go-keyring-base64:" + base64.StdEncoding.EncodeToString([]byte(password))
	return len("add-generic-password -U -s ") + len(shellQuote(service)) +
		len(" -a ") + len(shellQuote(user)) + len(" -w ") + len(shellQuote(pw)) + len("\n")
}

// shellQuote quotes s as go-keyring's internal shellescape.Quote does:
// unchanged when every byte is in [A-Za-z0-9_@%+=:,./-], else in single
// quotes.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, c := range []byte(s) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("_@%+=:,./-", c) >= 0
		safe = safe && ok
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}
