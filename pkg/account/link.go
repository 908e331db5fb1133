package account

import (
	"context"
	"errors"
	"fmt"
	"os"
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

// SecretSource is where a link may find a confidential app's client
// secret besides the environment and the store.
type SecretSource struct {
	Public       bool   // link --public: the app has none
	File         string // --client-secret-file
	Confidential bool   // --confidential: ask the person, with Ask
	Ask          func() (string, error)
	// PrintLink says the sign-in is finished by another run (link
	// --print-link), which reads its own secret.
	PrintLink bool
}

// ClientSecret finds the secret of a confidential app: the environment
// (MS365AUTH_CLIENT_SECRET), a file, the person, or st where profile p
// keeps it; "" for a public app. It never comes from a flag value, so it
// cannot leak through the process list. isNew says it was given now, not
// read from st.
func (s *Service) ClientSecret(st store.Store, p *profile.Profile, src SecretSource) (secret string, isNew bool, err error) {
	fromEnv := s.d.Getenv("MS365AUTH_CLIENT_SECRET")
	// The pending sign-in keeps no secret, and the finishing run reads its
	// own: a secret given here would be dropped, and redeeming the code
	// would then fail with AADSTS7000218.
	if src.PrintLink && !src.Public && (fromEnv != "" || src.File != "" || src.Confidential) {
		return "", false, fmt.Errorf("--print-link does not keep a client secret: start without one, and give it to the run that finishes the sign-in: ms365auth link%s --returned-url - with MS365AUTH_CLIENT_SECRET set or --client-secret-file FILE", ProfileFlag(p.Name))
	}
	switch {
	case src.Public:
		return "", false, nil
	case fromEnv != "":
		return fromEnv, true, nil
	case src.File != "":
		data, err := os.ReadFile(src.File)
		if err != nil {
			return "", false, fmt.Errorf("cannot read the client secret: %w", err)
		}
		secret := strings.TrimSpace(string(data))
		if secret == "" {
			return "", false, fmt.Errorf("the client secret file %s is empty", src.File)
		}
		return secret, true, nil
	case src.Confidential:
		secret, err := src.Ask()
		return secret, err == nil, err
	case p.Confidential:
		secret, err := st.LoadSecret(p.Name)
		if err != nil {
			return "", false, fmt.Errorf("profile %q is confidential but its client secret could not be read: %w\nfix: set MS365AUTH_CLIENT_SECRET or pass --client-secret-file", p.Name, err)
		}
		return secret, false, nil
	}
	return "", false, nil
}

// OpenLinkStore opens the store a link of p keeps its tokens in, and
// finds out now, not after the person has signed in, whether it can keep
// them.
func (s *Service) OpenLinkStore(p *profile.Profile) (store.Store, error) {
	st, err := s.d.OpenStore(p.Store)
	if err != nil {
		return nil, err
	}
	if err := Probe(st); err != nil {
		return nil, err
	}
	return st, nil
}

// SecretStore is where a link of p into st reads a kept client secret:
// the store the profile was in (cfg) when it moves to another (moving: a
// secret read there is then saved in st), else st.
func (s *Service) SecretStore(cfg *profile.Config, p *profile.Profile, st store.Store) (secrets store.Store, moving bool, err error) {
	prev := StoreOf(cfg.Get(p.Name))
	if prev == "" || prev == st.Name() {
		return st, false, nil
	}
	if secrets, err = s.d.OpenStore(prev); err != nil {
		return nil, false, err
	}
	return secrets, true, nil
}

// LinkedAccount says whether profile old (its settings; nil when there are
// none) holds tokens that a new sign-in would replace, and whose they are
// ("" when the record cannot be read or names nobody). A store that cannot
// be opened counts as holding none: the sign-in reports its trouble.
func (s *Service) LinkedAccount(old *profile.Profile) (linked bool, account string) {
	if old == nil {
		return false, ""
	}
	st, err := s.OpenProfileStore(old)
	if err != nil {
		return false, ""
	}
	rec, err := st.Load(old.Name)
	if errors.Is(err, store.ErrNotFound) {
		return false, ""
	}
	if err != nil {
		return true, ""
	}
	return true, rec.Account
}
