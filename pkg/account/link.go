package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// LinkSettings merges what a link was told (c, and storeFlag for --store)
// with the environment and the settings cfg keeps for profile name. Flags
// win, then the environment (MS365AUTH_AUTHORITY_HOST, MS365AUTH_STORE),
// then what the profile remembers, then defaults (profile.Profile.Apply;
// for the store, ChooseStore). A first link needs a client ID.
func (s *Service) LinkSettings(cfg *profile.Config, name, storeFlag string, c profile.Change) (*profile.Profile, error) {
	base := profile.Profile{Name: name, Method: profile.MethodPaste}
	if old := cfg.Get(name); old != nil {
		base = *old
	}
	if c.ClientID == "" && base.ClientID == "" {
		return nil, fmt.Errorf("--client-id is required the first time profile %q is linked: use the Application (client) ID from the app registration's Overview page", name)
	}
	if c.AuthorityHost == "" {
		c.AuthorityHost = s.d.Getenv("MS365AUTH_AUTHORITY_HOST")
	}
	p, err := base.Apply(c)
	if err != nil {
		return nil, err
	}
	if p.Store, err = s.ChooseStore(storeFlag, p.Store); err != nil {
		return nil, err
	}
	return p, nil
}

// KeepOptions says what Keep stores besides the tokens.
type KeepOptions struct {
	// Store is where the tokens go; the settings then name it.
	Store store.Store
	// Secret is the client secret the sign-in used ("" for a public app).
	Secret string
	// SecretIsNew stores Secret: it was just given, not read from Store.
	SecretIsNew bool
	// Public removes a client secret kept for a profile that was
	// confidential (link --public).
	Public bool
}

// Keep stores the result of a successful sign-in for p, under the
// profile's lock: the secret, then the tokens (all or nothing), then the
// settings. A failure leaves the earlier tokens as they were. When the
// profile moved to another store, its old tokens are removed from there.
// Warnings are things that went wrong after the link was kept.
func (s *Service) Keep(ctx context.Context, p *profile.Profile, res *flow.Result, o KeepOptions) (rec *store.Record, warnings []string, err error) {
	rec = NewRecord(res, s.d.Now())
	// A refresh running in another process must not save its older tokens
	// over these, nor a logout interleave.
	unlock, err := s.Lock(ctx, p.Name)
	if err != nil {
		return nil, nil, fmt.Errorf("signed in, but could not store the tokens (nothing was changed): %w", err)
	}
	defer unlock()
	st := o.Store
	if old, err := st.Load(p.Name); err == nil {
		carryOver(rec, old)
	}
	// The secret first: it is the one that just worked, so a failure after
	// it leaves a consistent pair, the earlier tokens with a working secret.
	if o.SecretIsNew {
		if err := st.SaveSecret(p.Name, o.Secret); err != nil {
			return nil, nil, fmt.Errorf("signed in, but could not keep the client secret (the earlier tokens are unchanged): %w", err)
		}
	}
	if err := st.Save(p.Name, rec); err != nil {
		return nil, nil, fmt.Errorf("signed in, but could not store the tokens (the earlier tokens are unchanged): %w", err)
	}
	dropSecret := o.Public && p.Confidential
	p.Confidential = o.Secret != ""
	p.Store = st.Name()
	p.LoggedOut = false
	prevStore := ""
	err = s.d.Settings.Update(func(c *profile.Config) {
		prevStore = StoreOf(c.Get(p.Name))
		c.Set(p)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("tokens stored, but the settings could not be saved: %w", err)
	}
	s.DropClaims(p.Name) // a saved claims challenge went with this sign-in, or is stale
	if dropSecret {
		if err := st.DeleteSecret(p.Name); err != nil {
			warnings = append(warnings, fmt.Sprintf("the client secret of profile %q could not be removed: %v", p.Name, err))
		}
	}
	if prevStore != "" && prevStore != p.Store {
		// The profile moved: its old tokens must not linger.
		old, err := s.d.OpenStore(prevStore)
		if err == nil {
			err = errors.Join(old.Delete(p.Name), old.DeleteSecret(p.Name))
		}
		var ue *store.UnavailableError
		if errors.As(err, &ue) {
			err = errors.New(strings.TrimSuffix(ue.Cause, "."))
		}
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("the old tokens of profile %q could not be removed from the %s store: %v", p.Name, prevStore, err))
		}
	}
	return rec, warnings, nil
}

// NewRecord is the record a sign-in's result starts, at now.
func NewRecord(res *flow.Result, now time.Time) *store.Record {
	t := res.Token
	return &store.Record{
		AccessToken:       t.AccessToken,
		TokenType:         t.TokenType,
		Expiry:            t.Expiry,
		IssuedAt:          now,
		RefreshToken:      t.RefreshToken,
		Scopes:            res.Scopes,
		ScopesAsRequested: res.ScopesAsRequested,
		Account:           res.Claims.Account(),
		Name:              res.Claims.Name,
		TenantID:          res.Claims.TID,
		ObjectID:          res.Claims.OID,
		Subject:           res.Claims.Sub,
		LinkedAt:          now,
		LastRefreshAt:     now,
		RefreshExpiry:     refreshExpiry(res, now),
	}
}

// carryOver keeps in a new sign-in's record what outlives a session: the
// sign-in frequency a Conditional Access policy was found to set, which
// will end this session too.
func carryOver(rec, old *store.Record) {
	rec.SignInFrequencySeconds = old.SignInFrequencySeconds
}

// refreshExpiry is when res's refresh token expires, where the server said
// (refresh_expires_in); zero when it did not.
func refreshExpiry(res *flow.Result, now time.Time) time.Time {
	if res.RefreshExpiresIn <= 0 || res.Token.RefreshToken == "" {
		return time.Time{}
	}
	return now.Add(res.RefreshExpiresIn)
}

// StoreOf names the store a profile's settings say it uses; "" for none
// (no settings, or never linked).
func StoreOf(p *profile.Profile) string {
	if p == nil {
		return ""
	}
	return p.Store
}

// AccountLabel is how an account is shown: its name, then the person's
// display name in brackets when it says something more; "" when neither is
// known.
func AccountLabel(account, name string) string {
	switch {
	case account == "":
		return name
	case name == "" || name == account:
		return account
	}
	return account + " (" + name + ")"
}
