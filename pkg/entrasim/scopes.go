package entrasim

import (
	"fmt"
	"strings"
)

// scope is one requested permission. OIDC scopes (openid, profile, email,
// offline_access) have no resource.
type scope struct {
	resource string // e.g. https://graph.microsoft.com; "" for OIDC scopes
	name     string // e.g. User.Read, .default, openid
}

var oidcScopes = map[string]bool{"openid": true, "profile": true, "email": true, "offline_access": true}

// key identifies a scope for consent: Entra compares scopes
// case-insensitively.
func (sc scope) key() string {
	if sc.resource == "" {
		return sc.name
	}
	return strings.ToLower(sc.resource + "/" + sc.name)
}

// display is how the token response's scope field spells it: Graph scopes
// unprefixed, other resources as full URIs.
func (sc scope) display() string {
	if sc.resource == "" || sc.resource == graphResource {
		return sc.name
	}
	return sc.resource + "/" + sc.name
}

func (sc scope) isOIDC() bool { return sc.resource == "" }

// parseScopes splits a space-separated scope parameter. Decision rules: the
// four OIDC names are recognised case-insensitively; a value with a "/" is
// resource + "/" + name split at the last slash (so full URIs and
// api://app-id/name work); anything else is a Graph scope; ".default" cannot
// be combined with named scopes (AADSTS70011).
func parseScopes(raw string) ([]scope, *aadError) {
	var out []scope
	seen := map[string]bool{}
	hasDefault, hasNamed := false, false
	for _, f := range strings.Fields(raw) {
		var sc scope
		switch {
		case oidcScopes[strings.ToLower(f)]:
			sc = scope{name: strings.ToLower(f)}
		case strings.Contains(f, "/"):
			i := strings.LastIndex(f, "/")
			sc = scope{resource: strings.TrimRight(f[:i], "/"), name: f[i+1:]}
			if sc.name == "" || sc.resource == "" {
				return nil, errInvalidScope(f)
			}
			if strings.EqualFold(sc.resource, graphResource) || strings.EqualFold(sc.resource, "00000003-0000-0000-c000-000000000000") {
				sc.resource = graphResource
			}
		default:
			sc = scope{resource: graphResource, name: f}
		}
		if !sc.isOIDC() {
			if sc.name == ".default" {
				hasDefault = true
			} else {
				hasNamed = true
			}
		}
		if !seen[sc.key()] {
			seen[sc.key()] = true
			out = append(out, sc)
		}
	}
	if hasDefault && hasNamed {
		return nil, &aadError{status: 400, err: "invalid_scope", code: 70011,
			msg: fmt.Sprintf("The provided value for the input parameter 'scope' is not valid. The scope '%s' is not valid: '.default' cannot be combined with other scopes.", raw)}
	}
	return out, nil
}

func errInvalidScope(s string) *aadError {
	return &aadError{status: 400, err: "invalid_scope", code: 70011,
		msg: fmt.Sprintf("The provided value for the input parameter 'scope' is not valid. The scope '%s' is not valid.", s)}
}

func hasScope(scopes []scope, name string) bool {
	for _, sc := range scopes {
		if sc.isOIDC() && sc.name == name {
			return true
		}
	}
	return false
}

// resourceOf returns the resource an access token for these scopes is for:
// the resource of the first non-OIDC scope, or Graph when there is none.
func resourceOf(scopes []scope) string {
	for _, sc := range scopes {
		if !sc.isOIDC() {
			return sc.resource
		}
	}
	return graphResource
}

// oneResource answers AADSTS700022 when scopes at the token endpoint span
// more than one resource: one access token is for one resource.
func oneResource(raw string, scopes []scope) *aadError {
	res := ""
	for _, sc := range scopes {
		if sc.isOIDC() {
			continue
		}
		if res != "" && !strings.EqualFold(res, sc.resource) {
			return &aadError{status: 400, err: "invalid_scope", code: 700022,
				msg: fmt.Sprintf("The provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", raw)}
		}
		res = sc.resource
	}
	return nil
}
