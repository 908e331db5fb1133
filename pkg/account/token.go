package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
	"github.com/ms365auth/ms365auth/pkg/tokenlife"
)

// TokenRequest says which access token a command needs.
type TokenRequest struct {
	Scopes []string      // scopes or features (--scopes); nil: the profile's own resource
	Margin time.Duration // renew when the token expires within this
	Force  bool          // renew even a valid token: the resource refused it
}

// Token is an access token and what its user should be told about it.
type Token struct {
	AccessToken string
	Expiry      time.Time
	// Warnings are one-line messages for standard error (without the
	// "warning: " prefix): a refresh token that dies soon, a renewal that
	// failed for now while the current token still works.
	Warnings []string
}

// AccessToken is the one path by which commands (token, api) get an access
// token of profile name: the stored one while it is fresh enough, else a
// refresh under the profile's lock. When renewing early fails for now but
// the stored token still works, that token is returned with a warning: a
// mail client or script is better served by it than by an error.
//
// The first read happens without the lock and is only trusted to say
// "this token is good": anything else (no tokens, an old token) is judged
// again under the lock, with the settings read again, so that a profile
// being moved to another store is never reported as not linked.
func (s *Service) AccessToken(ctx context.Context, name string, req TokenRequest) (*Token, error) {
	var scopes []string
	if len(req.Scopes) > 0 {
		resolved, err := entra.ResolveScopes(req.Scopes)
		if err != nil {
			return nil, err
		}
		scopes = entra.ResourceScopes(resolved)
	}
	key := ResourceKey(scopes)
	p, seen, err := s.peek(name)
	if err != nil {
		return nil, err
	}
	rec, err := s.ensure(ctx, renewal{name: name, seen: seen, scopes: scopes, margin: req.Margin, force: req.Force})
	var te *TransientError
	if err != nil && (!errors.As(err, &te) || req.Force || seen == nil) {
		return nil, err
	}
	if err != nil {
		rec = seen // unchanged by the failure
	}
	t := &Token{}
	if w := RefreshTokenWarning(p, rec, s.d.Now()); w != "" {
		t.Warnings = append(t.Warnings, w)
	}
	got := TokenFor(rec, key)
	if err != nil {
		if !ValidFor(rec, key, s.d.Now(), 0) {
			return nil, err
		}
		t.Warnings = append(t.Warnings, err.Error(), "using the current token, which is valid until "+got.Expiry.Local().Format(time.RFC1123))
	}
	t.AccessToken, t.Expiry = got.AccessToken, got.Expiry
	return t, nil
}

// peek reads profile name's settings and record without the lock: a nil
// record when the settings or the store have none (ensure then judges
// under the lock).
func (s *Service) peek(name string) (*profile.Profile, *store.Record, error) {
	p, err := s.Profile(name)
	if err != nil {
		return nil, nil, err
	}
	st, err := s.OpenProfileStore(p)
	if err != nil {
		return nil, nil, err
	}
	rec, err := st.Load(name)
	if errors.Is(err, store.ErrNotFound) {
		return p, nil, nil
	}
	return p, rec, err
}

// TokenSource hands out profile name's access token to a run of requests
// (api): the first ask, and one that asks to renew (the resource refused
// the token), go to AccessToken with req; the others reuse that token, so
// that the pages and retries of one run share it. warn gets the warnings.
func (s *Service) TokenSource(name string, req TokenRequest, warn func(string)) func(ctx context.Context, renew bool) (string, error) {
	token := ""
	return func(ctx context.Context, renew bool) (string, error) {
		if token != "" && !renew {
			return token, nil
		}
		r := req
		r.Force = renew
		t, err := s.AccessToken(ctx, name, r)
		if err != nil {
			return "", err
		}
		for _, w := range t.Warnings {
			warn(w)
		}
		token = t.AccessToken
		return token, nil
	}
}

// Renew refreshes profile name's tokens now, whatever their state
// (reauth's keep-alive), under the lock. profileScopes, when not nil,
// replace the scopes of its settings for this refresh.
func (s *Service) Renew(ctx context.Context, name string, profileScopes []string) (*store.Record, error) {
	return s.ensure(ctx, renewal{name: name, profileScopes: profileScopes, force: true})
}

// RefreshTokenWarning says, when the record's refresh token has fewer than
// tokenlife.UrgentDays left, that it dies soon unless used and what keeps
// it alive; "" otherwise. A refresh that succeeded has restarted its
// clock, so this speaks only when none happened or it failed.
func RefreshTokenWarning(p *profile.Profile, rec *store.Record, now time.Time) string {
	// Entra's 90 days are no other server's rule (status says so).
	if rec == nil || !isMicrosoft(p) {
		return ""
	}
	life := lifeOf(rec)
	if !tokenlife.Urgent(life, now) {
		return ""
	}
	days, _ := tokenlife.DaysLeft(life, now)
	return refreshTokenWarning(p.Name, days)
}

// refreshTokenWarning says that the refresh token dies in days unless
// used, and what keeps it alive.
func refreshTokenWarning(name string, days int) string {
	if name == profile.SandboxName {
		// Its stand-in has ended, so nothing renews it: only a new
		// rehearsal does (the name is kept for --sandbox).
		return fmt.Sprintf("the sandbox's refresh token dies %s, and the ended sandbox cannot renew it: rehearse again with: ms365auth link --sandbox", inDays(days))
	}
	return fmt.Sprintf("the refresh token dies %s unless used: run ms365auth reauth --non-interactive%s, best daily from cron (see the cron recipe, https://github.com/ms365auth/ms365auth/blob/main/docs/recipes.md#cron)",
		inDays(days), ProfileFlag(name))
}

// inDays says when, days (at least 1: a refresh token with none left is
// dead, and then no warning is given) from now.
func inDays(days int) string {
	if days == 1 {
		return "in 1 day"
	}
	return fmt.Sprintf("in %d days", days)
}

// lifeOf is what tokenlife needs to know of a record's refresh token.
func lifeOf(rec *store.Record) tokenlife.RefreshToken {
	if rec == nil || rec.RefreshToken == "" {
		return tokenlife.RefreshToken{}
	}
	issued := rec.LastRefreshAt // each refresh issues a new one
	if issued.IsZero() {
		issued = rec.LinkedAt
	}
	return tokenlife.RefreshToken{Issued: issued}
}
