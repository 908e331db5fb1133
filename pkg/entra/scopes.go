package entra

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// GraphResource is the resource that unprefixed scope names belong to.
const GraphResource = "https://graph.microsoft.com"

// Features maps a feature name to its scopes. Graph scopes use the short form
// that Entra also returns in a token response; Outlook protocol scopes need
// their full URI because they belong to another resource.
var Features = map[string][]string{
	"calendar":              {"Calendars.Read"},
	"calendar-write":        {"Calendars.ReadWrite"},
	"calendar-shared":       {"Calendars.Read.Shared"},
	"calendar-shared-write": {"Calendars.ReadWrite.Shared"},
	"mail":                  {"Mail.Read"},
	"mail-write":            {"Mail.ReadWrite"},
	"mail-send":             {"Mail.Send"},
	"mail-send-shared":      {"Mail.Send.Shared"},
	"contacts":              {"Contacts.Read"},
	"tasks":                 {"Tasks.ReadWrite"},
	"user":                  {"User.Read"},
	"imap":                  {"https://outlook.office.com/IMAP.AccessAsUser.All"},
	"pop":                   {"https://outlook.office.com/POP.AccessAsUser.All"},
	"smtp":                  {"https://outlook.office.com/SMTP.Send"},
}

// FeatureNames returns the names in Features, sorted.
func FeatureNames() []string {
	names := make([]string, 0, len(Features))
	for n := range Features {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// oidcScopes are the scopes ResolveScopes always adds, in this order.
// offline_access is what makes Entra return a refresh token at all.
var oidcScopes = []string{"offline_access", "openid", "profile"}

func isOIDCScope(s string) bool {
	switch strings.ToLower(s) {
	case "offline_access", "openid", "profile", "email":
		return true
	}
	return false
}

// scopeNameRE is the character set of a scope's last segment. It excludes
// everything Entra would reject or that cannot travel in a space-separated
// scope parameter.
var scopeNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`) })

// ResolveScopes turns feature names and scope names into the scope list for
// a sign-in.
//
// Rules, in order:
//   - each item is split on spaces and commas; empty pieces are skipped;
//   - a feature name (any case) expands to its scopes;
//   - openid, profile, email and offline_access are recognised in any case;
//   - a Graph scope may be given short (Calendars.Read) or in full
//     (https://graph.microsoft.com/Calendars.Read) and is kept short, except
//     .default, which is kept as a full URI;
//   - another resource's scope must be a full URI (scheme://host/Name);
//   - a short name without a dot is taken to be a mistyped feature name,
//     since every Graph delegated scope has a dot in it;
//   - duplicates are dropped, comparing case-insensitively;
//   - a resource's .default cannot be mixed with named scopes (Entra answers
//     AADSTS70011).
//
// The result is the requested scopes in input order, then offline_access,
// openid and profile (and email, if it was asked for).
func ResolveScopes(items []string) ([]string, error) {
	var resource []string
	wantEmail := false
	seen := map[string]bool{}
	add := func(s string) {
		if k := strings.ToLower(s); !seen[k] {
			seen[k] = true
			resource = append(resource, s)
		}
	}
	for _, item := range items {
		for _, tok := range strings.FieldsFunc(item, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
			if scopes, ok := Features[strings.ToLower(tok)]; ok {
				for _, s := range scopes {
					add(s)
				}
				continue
			}
			if isOIDCScope(tok) {
				if strings.EqualFold(tok, "email") {
					wantEmail = true
				}
				continue
			}
			s, err := normaliseScope(tok)
			if err != nil {
				return nil, err
			}
			add(s)
		}
	}
	if err := checkDefault(resource); err != nil {
		return nil, err
	}
	out := append(resource, oidcScopes...)
	if wantEmail {
		out = append(out, "email")
	}
	return out, nil
}

// normaliseScope validates one non-OIDC, non-feature token and returns its
// canonical spelling.
func normaliseScope(tok string) (string, error) {
	if !strings.Contains(tok, "/") {
		if strings.EqualFold(tok, ".default") {
			return GraphResource + "/.default", nil
		}
		if !scopeNameRE().MatchString(tok) {
			return "", fmt.Errorf("invalid scope %q: a scope name has only letters, digits, dots, hyphens and underscores", tok)
		}
		if !strings.Contains(tok, ".") {
			return "", fmt.Errorf("unknown feature %q: use one of %s, or a scope name such as Calendars.Read", tok, strings.Join(FeatureNames(), ", "))
		}
		return tok, nil
	}
	i := strings.LastIndex(tok, "/")
	res, name := tok[:i], tok[i+1:]
	if strings.EqualFold(name, ".default") {
		name = ".default"
		tok = res + "/" + name
	}
	u, err := url.Parse(res)
	if err != nil || u.Scheme == "" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || !(name == ".default" || scopeNameRE().MatchString(name)) {
		return "", fmt.Errorf("invalid scope %q: give another resource's scope as a full URI such as https://outlook.office.com/IMAP.AccessAsUser.All", tok)
	}
	if strings.EqualFold(res, GraphResource) && name != ".default" {
		return name, nil
	}
	return tok, nil
}

func checkDefault(scopes []string) error {
	var def, named []string
	for _, s := range scopes {
		if strings.HasSuffix(s, "/.default") {
			def = append(def, s)
		} else {
			named = append(named, s)
		}
	}
	if len(def) > 0 && len(named) > 0 {
		return fmt.Errorf("cannot mix %s with named scopes (%s): Entra rejects that with AADSTS70011; ask for .default alone or only for named scopes", def[0], strings.Join(named, " "))
	}
	return nil
}

// ScopeResource returns the resource a scope belongs to: GraphResource for a
// short name, the part before the last slash for a full URI, and "" for the
// OIDC scopes (openid, profile, email, offline_access), which belong to none.
func ScopeResource(scope string) string {
	scope = strings.TrimSpace(scope)
	if scope == "" || isOIDCScope(scope) {
		return ""
	}
	if i := strings.LastIndex(scope, "/"); i >= 0 {
		return scope[:i]
	}
	return GraphResource
}

// scopeKey is how two spellings of one scope compare equal: Graph scopes by
// short name, everything case-insensitively.
func scopeKey(s string) string {
	if len(s) > len(GraphResource)+1 && strings.EqualFold(s[:len(GraphResource)+1], GraphResource+"/") {
		s = s[len(GraphResource)+1:]
	}
	return strings.ToLower(s)
}

// GrantedCovers reports whether the granted scopes (from a token response;
// items may hold several space-separated scopes) include every requested
// resource scope. OIDC scopes are ignored because Entra often leaves
// offline_access and openid out of the response. A requested .default is
// covered by any granted scope of the same resource, since Entra answers
// .default with the scopes it stands for.
func GrantedCovers(granted, requested []string) bool {
	have := map[string]bool{}
	resources := map[string]bool{}
	for _, item := range granted {
		for _, s := range strings.Fields(item) {
			have[scopeKey(s)] = true
			resources[strings.ToLower(ScopeResource(s))] = true
		}
	}
	for _, item := range requested {
		for _, s := range strings.Fields(item) {
			switch {
			case isOIDCScope(s):
			case strings.HasSuffix(s, "/.default") || s == ".default":
				if !resources[strings.ToLower(ScopeResource(s))] {
					return false
				}
			case !have[scopeKey(s)]:
				return false
			}
		}
	}
	return true
}

// CompleteFeatureList completes list, a comma-separated list being typed,
// with each feature name (FeatureNames) that starts its last item and is
// not in it yet, keeping the items before.
func CompleteFeatureList(list string) []string {
	done, last := "", list
	if i := strings.LastIndex(list, ","); i >= 0 {
		done, last = list[:i+1], list[i+1:]
	}
	have := map[string]bool{}
	for _, s := range strings.Split(done, ",") {
		have[strings.TrimSpace(s)] = true
	}
	var out []string
	for _, name := range FeatureNames() {
		if !have[name] && strings.HasPrefix(name, last) {
			out = append(out, done+name)
		}
	}
	return out
}
