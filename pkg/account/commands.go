package account

import (
	"slices"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

// sandboxScopes are what "link --sandbox" asks for unless told otherwise:
// what the sandbox's Graph answers (/me, the calendar, the inbox).
var sandboxScopes = []string{"user", "calendar", "mail"}

// SandboxScopes is what "link --sandbox" asks for without --scopes.
func SandboxScopes() []string { return slices.Clone(sandboxScopes) }

// LinkCommand is the link command that signs p in as the sign-in under way
// does, with method: what a message offers when that sign-in cannot go on
// as it is (no URL can be pasted, say). Printed, it must run as it is, so
// it carries what the settings file does not know yet:
//   - the sandbox is linked with --sandbox, never by profile name;
//   - a first link needs --client-id (shown only when it is a GUID: a
//     value that is not may be a secret in the wrong place);
//   - tenant, authority host, scopes and redirect URI that differ from
//     what the settings (or, for a first link, the defaults) have;
//   - --store file when the tokens go to files and neither the settings
//     nor MS365AUTH_STORE say so;
//   - --force when the settings know the profile: the person is already
//     signing it in, and must not be asked again whether to replace it.
func (s *Service) LinkCommand(p *profile.Profile, method string) string {
	saved, _, err := s.d.Settings.Get(p.Name)
	if err != nil {
		saved = nil
	}
	cmd := "ms365auth link" + ProfileFlag(p.Name) + MethodFlag(method)
	base := saved
	if p.Sandbox {
		cmd = "ms365auth link --sandbox"
		if base == nil {
			base = &profile.Profile{Scopes: mustResolve(sandboxScopes)}
		}
		if !slices.Equal(p.Scopes, base.Scopes) {
			cmd += ListFlag("--scopes", p.Scopes)
		}
	} else {
		if base == nil || base.ClientID == "" {
			id := p.ClientID
			if !entra.IsGUID(id) {
				id = "<application ID>"
			}
			cmd += " --client-id " + id
			fresh := profile.Profile{Name: p.Name, Method: method}
			if base, err = fresh.Apply(profile.Change{ClientID: p.ClientID, AuthorityHost: s.d.Getenv("MS365AUTH_AUTHORITY_HOST")}); err != nil {
				base = &fresh
			}
		}
		cmd += changedFlags(p, base, method)
	}
	if p.Store == StoreFile && StoreOf(saved) != StoreFile && s.d.Getenv(EnvStore) != StoreFile {
		cmd += " --store " + StoreFile
	}
	if saved != nil {
		cmd += " --force"
	}
	return cmd
}

// changedFlags are the link flags that make base's settings p's.
func changedFlags(p, base *profile.Profile, method string) string {
	flags := ""
	if p.Tenant != base.Tenant {
		flags += " --tenant " + p.Tenant
	}
	if p.AuthorityHost != base.AuthorityHost {
		flags += " --authority-host " + p.AuthorityHost
	}
	if !slices.Equal(p.Scopes, base.Scopes) {
		flags += ListFlag("--scopes", p.Scopes)
	}
	if method == p.Method && method != profile.MethodDevice && p.RedirectURI != base.RedirectURI {
		flags += " --redirect-uri " + p.RedirectURI
	}
	return flags
}

func mustResolve(scopes []string) []string {
	resolved, _ := entra.ResolveScopes(scopes)
	return resolved
}
