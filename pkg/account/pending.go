package account

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ms365auth/ms365auth/pkg/atomicfile"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

// PendingLifetime is how long a pending sign-in lasts: about as long as
// Entra's authorization codes, so a later finish would fail anyway.
const PendingLifetime = 10 * time.Minute

// Pending is a sign-in started by one process ("link --print-link", or an
// unattended reauth) that "link --returned-url" finishes in another.
type Pending struct {
	Profile  profile.Profile `json:"profile"`
	State    string          `json:"state"`
	Verifier string          `json:"verifier"`
	Created  time.Time       `json:"created"`
	// Warnings are one-line messages for standard error: the file was
	// open to other users (it is made private again as it is read).
	Warnings []string `json:"-"`
}

// pendingPath is where profile name's pending sign-in is kept.
func (s *Service) pendingPath(name string) (string, error) {
	if s.d.StateDir == "" {
		return "", errors.New("cannot find a state directory (set XDG_STATE_HOME)")
	}
	return filepath.Join(s.d.StateDir, "pending-"+name+".json"), nil
}

// SavePending keeps what "link --returned-url" needs to finish auth for p.
func (s *Service) SavePending(p *profile.Profile, auth *flow.Authorization) error {
	path, err := s.pendingPath(p.Name)
	if err != nil {
		return err
	}
	data, err := json.Marshal(Pending{Profile: *p, State: auth.State, Verifier: auth.Verifier(), Created: s.d.Now()})
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data)
}

// LoadPending reads profile name's pending sign-in. One that cannot be
// read or is too old is removed, and the error says how to start again.
func (s *Service) LoadPending(name string) (*Pending, error) {
	path, err := s.pendingPath(name)
	if err != nil {
		return nil, err
	}
	data, warning, err := atomicfile.ReadPrivate(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no sign-in is waiting for a returned URL in profile %q: start one with: %s", name, s.printLinkCommand(name))
	}
	if err != nil {
		return nil, err
	}
	var ps Pending
	if err := json.Unmarshal(data, &ps); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("the waiting sign-in could not be read; start again with: %s", s.printLinkCommand(name))
	}
	if s.d.Now().Sub(ps.Created) > PendingLifetime {
		os.Remove(path)
		return nil, fmt.Errorf("the sign-in started with --print-link is older than 10 minutes and its code has expired: start again with: %s", s.printLinkCommand(name))
	}
	ps.Profile.Name = name
	if warning != "" {
		ps.Warnings = append(ps.Warnings, warning)
	}
	return &ps, nil
}

// printLinkCommand starts a sign-in of profile name in two steps; a
// profile the settings do not know needs its client ID.
func (s *Service) printLinkCommand(name string) string {
	cmd := "ms365auth link" + ProfileFlag(name)
	if p, _, err := s.d.Settings.Get(name); err == nil && (p == nil || p.ClientID == "") {
		cmd += " --client-id <application ID>"
	}
	return cmd + " --print-link"
}

// DropPending removes profile name's pending sign-in and saved claims
// challenge, if any: its code is spent (the sign-in carried the claims),
// or the profile logged out.
func (s *Service) DropPending(name string) {
	if path, err := s.pendingPath(name); err == nil {
		os.Remove(path)
	}
	s.DropClaims(name)
}
