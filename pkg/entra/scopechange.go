package entra

import (
	"fmt"
	"slices"
	"strings"
)

// ChangeScopes returns a profile's scopes after adding and removing scopes
// or features (written as ResolveScopes takes them), the way
// "gh auth refresh" does: the current scopes in their order, less the
// removed ones, then the added ones, then the OIDC scopes. Removing a scope
// the profile does not ask for is an error (most likely a typo), and so is
// removing every resource scope.
//
// Asking for fewer scopes withdraws no consent: Entra keeps what it was
// given until it is revoked.
func ChangeScopes(current, add, remove []string) ([]string, error) {
	drop, err := ResolveScopes(remove)
	if err != nil {
		return nil, err
	}
	dropped := map[string]bool{}
	for _, s := range drop {
		if !isOIDCScope(s) {
			dropped[strings.ToLower(s)] = false
		}
	}
	var kept []string
	for _, s := range current {
		if _, ok := dropped[strings.ToLower(s)]; ok {
			dropped[strings.ToLower(s)] = true
			continue
		}
		kept = append(kept, s)
	}
	for _, s := range drop {
		if found, ok := dropped[strings.ToLower(s)]; ok && !found {
			return nil, fmt.Errorf("cannot remove %s: the profile does not ask for it (it asks for %s)", s, strings.Join(ResourceScopes(current), " "))
		}
	}
	out, err := ResolveScopes(append(kept, add...))
	if err != nil {
		return nil, err
	}
	if len(ResourceScopes(out)) == 0 {
		return nil, fmt.Errorf("removing %s would leave the profile no scopes to ask for: keep at least one, e.g. User.Read", strings.Join(ResourceScopes(drop), " "))
	}
	return out, nil
}

// ResourceScopes drops the OIDC scopes (openid, profile, email,
// offline_access, in any case), which every request carries anyway.
func ResourceScopes(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if !isOIDCScope(s) {
			out = append(out, s)
		}
	}
	return out
}

// OtherResourceScopes lists the resource scopes of scopes that are not in
// main: those consented to for another resource, or newly asked for.
func OtherResourceScopes(scopes, main []string) []string {
	var out []string
	for _, s := range ResourceScopes(scopes) {
		if !slices.Contains(main, s) {
			out = append(out, s)
		}
	}
	return out
}

// MissingScopes lists the requested scopes that granted does not cover
// (see GrantedCovers). An empty granted means the server did not say, so
// nothing is reported missing.
func MissingScopes(granted, requested []string) []string {
	if len(granted) == 0 {
		return nil
	}
	var missing []string
	for _, s := range requested {
		if !GrantedCovers(granted, []string{s}) {
			missing = append(missing, s)
		}
	}
	return missing
}
