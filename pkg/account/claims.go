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
	"github.com/ms365auth/ms365auth/pkg/entra"
)

// InlineClaims is the longest claims challenge, in bytes of JSON, that a
// printed command carries as --claims (in hex, twice as long). Entra's
// own challenges fit. A longer one (up to entra.MaxClaims) is saved in the
// state directory, where reauth finds it, so that the command stays short
// enough to read, to paste and to run.
const InlineClaims = 256

// savedClaims is a claims challenge waiting for profile's next sign-in.
type savedClaims struct {
	Claims  string    `json:"claims"`
	Created time.Time `json:"created"`
}

// claimsPath is where profile name's saved claims challenge is kept.
func (s *Service) claimsPath(name string) (string, error) {
	if s.d.StateDir == "" {
		return "", errors.New("cannot find a state directory (set XDG_STATE_HOME)")
	}
	return filepath.Join(s.d.StateDir, "claims-"+name+".json"), nil
}

// RememberClaims saves sr's claims challenge for reauth when it is too
// long for the printed command (InlineClaims), so that sr.Command() can
// name a plain reauth. When it cannot be saved, the command carries the
// claims after all: long, but it runs.
func (s *Service) RememberClaims(sr *SignInRequiredError) {
	if len(sr.Claims) <= InlineClaims || sr.ClaimsSaved {
		return
	}
	path, err := s.claimsPath(sr.Profile)
	if err != nil {
		return
	}
	data, err := json.Marshal(savedClaims{Claims: sr.Claims, Created: s.d.Now()})
	if err == nil && atomicfile.WriteFile(path, data) == nil {
		sr.ClaimsSaved = true
	}
}

// SavedClaims is the claims challenge saved for profile name's next
// sign-in ("" when there is none), with warnings for standard error.
func (s *Service) SavedClaims(name string) (claims string, warnings []string, err error) {
	path, err := s.claimsPath(name)
	if err != nil {
		return "", nil, nil // nowhere to have saved any
	}
	data, warning, err := atomicfile.ReadPrivate(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, nil
	}
	if warning != "" {
		warnings = append(warnings, warning)
	}
	var sc savedClaims
	if err == nil {
		err = json.Unmarshal(data, &sc)
	}
	if err == nil {
		err = entra.CheckClaims(sc.Claims)
	}
	if err != nil {
		os.Remove(path)
		return "", warnings, fmt.Errorf("the saved claims challenge of profile %q could not be read and was removed: %w", name, err)
	}
	return sc.Claims, warnings, nil
}

// DropClaims removes profile name's saved claims challenge: a sign-in
// answered it, or the profile logged out.
func (s *Service) DropClaims(name string) {
	if path, err := s.claimsPath(name); err == nil {
		os.Remove(path)
	}
}
