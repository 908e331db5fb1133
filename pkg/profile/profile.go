// Package profile keeps the non-secret settings of each profile (client ID,
// tenant, authority host, scopes, sign-in method, redirect URI) in one JSON
// file under the XDG config directory. Tokens and client secrets never go
// here; they belong to package store.
package profile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/ms365auth/ms365auth/pkg/atomicfile"
	"github.com/ms365auth/ms365auth/pkg/filelock"
)

// Sign-in methods a profile can remember.
const (
	MethodPaste  = "paste"  // the default: the person pastes the returned URL
	MethodAlt    = "alt"    // link --alt: a loopback callback listener
	MethodDevice = "device" // device code
)

// DefaultName is the profile used when none is given.
const DefaultName = "default"

// SandboxName is the profile `link --sandbox` uses; it is never the default.
const SandboxName = "sandbox"

// Profile is one account link's settings.
type Profile struct {
	Name          string   `json:"-"`
	ClientID      string   `json:"client_id"`
	Tenant        string   `json:"tenant,omitempty"`
	AuthorityHost string   `json:"authority_host,omitempty"`
	Scopes        []string `json:"scopes,omitempty"`
	Method        string   `json:"method,omitempty"`
	RedirectURI   string   `json:"redirect_uri,omitempty"`
	Listen        string   `json:"listen,omitempty"`
	TLSCert       string   `json:"tls_cert,omitempty"`
	TLSKey        string   `json:"tls_key,omitempty"`
	// Confidential says a client secret is kept in the store for this profile.
	Confidential bool   `json:"confidential,omitempty"`
	Store        string `json:"store,omitempty"`
	Sandbox      bool   `json:"sandbox,omitempty"`
	// LoggedOut says logout removed the tokens (and a sign-in has not
	// stored new ones): a second logout or forgetting the settings need
	// not reach the store.
	LoggedOut bool `json:"logged_out,omitempty"`
}

// Config is the whole settings file.
type Config struct {
	Profiles map[string]*Profile `json:"profiles"`
	// Warnings are what Load found wrong but put right (or could not),
	// for the caller to show on standard error.
	Warnings []string `json:"-"`
	path     string
}

// ValidateName accepts letters, digits, '.', '_' and '-', up to 64
// characters, starting with a letter or digit, so that a name is safe as a
// keyring item and a file name. (Checked by hand: every command runs it,
// and compiling a regexp would cost each one start-up time.)
func ValidateName(name string) error {
	ok := len(name) > 0 && len(name) <= 64
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		ok = alnum || i > 0 && (c == '.' || c == '_' || c == '-')
	}
	if !ok {
		return fmt.Errorf("invalid profile name %q: use letters, digits, '.', '_' or '-' (at most 64)", name)
	}
	return nil
}

// DefaultPath is $XDG_CONFIG_HOME/ms365auth/config.json (or the platform's
// equivalent); MS365AUTH_CONFIG, as getenv reads it, overrides it.
func DefaultPath(getenv func(string) string) (string, error) {
	if p := getenv("MS365AUTH_CONFIG"); p != "" {
		return p, nil
	}
	// The platform's rule (XDG_CONFIG_HOME on Linux and BSD, not on macOS).
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the config directory (set XDG_CONFIG_HOME or MS365AUTH_CONFIG): %w", err)
	}
	return filepath.Join(dir, "ms365auth", "config.json"), nil
}

// Load reads the settings file; a missing file is an empty config.
func Load(path string) (*Config, error) {
	c := &Config{Profiles: map[string]*Profile{}, path: path}
	data, err := c.readPrivate(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read settings: %w", err)
	}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("settings file %s is not valid JSON (fix or remove it): %w", path, err)
	}
	if c.Profiles == nil {
		c.Profiles = map[string]*Profile{}
	}
	for name, p := range c.Profiles {
		if err := ValidateName(name); err != nil {
			return nil, fmt.Errorf("settings file %s: %w", path, err)
		}
		if p == nil {
			delete(c.Profiles, name)
			continue
		}
		p.Name = name
	}
	return c, nil
}

// readPrivate reads the settings file, first making it 0600 again when
// other users can read it, as Save writes it: it names the app, the tenant
// and the paths of TLS keys, which are not others' business.
func (c *Config) readPrivate(path string) ([]byte, error) {
	data, warning, err := atomicfile.ReadPrivate(path)
	if warning != "" {
		c.Warnings = append(c.Warnings, warning)
	}
	return data, err
}

// Path is where the config was loaded from and will be saved to.
func (c *Config) Path() string { return c.path }

// Get returns the named profile, or nil.
func (c *Config) Get(name string) *Profile { return c.Profiles[name] }

// Set adds or replaces a profile.
func (c *Config) Set(p *Profile) { c.Profiles[p.Name] = p }

// Remove forgets a profile's settings.
func (c *Config) Remove(name string) { delete(c.Profiles, name) }

// Names lists the profiles in order.
func (c *Config) Names() []string {
	names := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Save writes the file atomically (temporary file, fsync, rename) with mode
// 0600 in a 0700 directory, so a crash leaves the old or the new file whole.
// A settings file that is a symbolic link (dotfiles kept in a repository)
// stays one: the file it points to is replaced.
func (c *Config) Save() error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	path := c.path
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	return atomicfile.WriteFile(path, append(data, '\n'))
}

// Update applies change to the settings file under an exclusive lock,
// reading the file afresh first, so that processes changing different
// profiles at the same time (a long sign-in in one, a link in another) do
// not undo each other's changes.
func Update(path string, change func(*Config)) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %w", filepath.Dir(path), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	unlock, err := filelock.Lock(ctx, path+".lock")
	if errors.Is(err, filelock.ErrSymlink) {
		return fmt.Errorf("cannot lock the settings file: %w", err)
	}
	if err != nil {
		return fmt.Errorf("cannot lock the settings file %s (another ms365auth process is changing it): %w", path, err)
	}
	defer unlock()
	c, err := Load(path)
	if err != nil {
		return err
	}
	change(c)
	return c.Save()
}

// lockWait bounds the wait for another process's settings update, which
// takes milliseconds. (A variable for tests.)
var lockWait = 30 * time.Second
