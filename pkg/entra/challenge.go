package entra

import "strings"

// ParseClaimsChallenge finds a Bearer challenge with
// error="insufficient_claims" and a claims parameter among WWW-Authenticate
// values (one header or several, one challenge or several in each), and
// returns the claims JSON. The claims come base64-encoded, in the standard
// or URL alphabet, padded or not (DecodeClaims takes them all).
func ParseClaimsChallenge(values []string) (string, bool) {
	for _, ch := range parseChallenges(values) {
		if !strings.EqualFold(ch.scheme, "Bearer") || !strings.EqualFold(ch.params["error"], "insufficient_claims") || ch.params["claims"] == "" {
			continue
		}
		if claims, err := DecodeClaims(ch.params["claims"]); err == nil {
			return claims, true
		}
	}
	return "", false
}

// challenge is one challenge of a WWW-Authenticate header: its scheme and
// its parameters, names lower-cased.
type challenge struct {
	scheme string
	params map[string]string
}

// parseChallenges reads WWW-Authenticate values as RFC 9110 section 11.6.1
// has them: a comma-separated list of challenges, each a scheme followed by
// a token68 or by name=value parameters (values quoted or not). It is
// lenient where servers are: an unquoted value runs to the next comma, so
// base64 padding needs no quotes.
func parseChallenges(values []string) []challenge {
	var out []challenge
	for _, v := range values {
		p := headerParser{s: v}
		for {
			p.skip(" \t,")
			if p.done() {
				break
			}
			scheme := p.token()
			if scheme == "" {
				p.skipPast(',') // not a challenge: drop up to the next comma
				continue
			}
			ch := challenge{scheme: scheme, params: map[string]string{}}
			p.skip(" \t")
			if !p.token68() {
				p.params(ch.params)
			}
			out = append(out, ch)
		}
	}
	return out
}

type headerParser struct {
	s string
	i int
}

func (p *headerParser) done() bool { return p.i >= len(p.s) }

func (p *headerParser) skip(chars string) {
	for !p.done() && strings.IndexByte(chars, p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *headerParser) skipPast(c byte) {
	if j := strings.IndexByte(p.s[p.i:], c); j >= 0 {
		p.i += j + 1
	} else {
		p.i = len(p.s)
	}
}

// token reads an RFC 9110 token.
func (p *headerParser) token() string {
	start := p.i
	for !p.done() && (isAlnum(p.s[p.i]) || strings.IndexByte("!#$%&'*+-.^_`|~", p.s[p.i]) >= 0) {
		p.i++
	}
	return p.s[start:p.i]
}

// token68 reads a token68 credential (as Negotiate and NTLM send) if that
// is what comes next: its characters, then '=' padding, then the end or a
// comma.
func (p *headerParser) token68() bool {
	j := p.i
	for j < len(p.s) && (isAlnum(p.s[j]) || strings.IndexByte("-._~+/", p.s[j]) >= 0) {
		j++
	}
	if j == p.i {
		return false
	}
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	k := j
	for k < len(p.s) && (p.s[k] == ' ' || p.s[k] == '\t') {
		k++
	}
	if k < len(p.s) && p.s[k] != ',' {
		return false
	}
	p.i = k
	return true
}

// params reads name=value parameters until a token without '=', which
// starts the next challenge (left unread).
func (p *headerParser) params(into map[string]string) {
	for {
		p.skip(" \t,")
		start := p.i
		name := p.token()
		p.skip(" \t")
		if name == "" || p.done() || p.s[p.i] != '=' {
			p.i = start
			return
		}
		p.i++
		p.skip(" \t")
		into[strings.ToLower(name)] = p.value()
	}
}

// value reads a quoted-string (unescaping it) or an unquoted value.
func (p *headerParser) value() string {
	if p.done() || p.s[p.i] != '"' {
		start := p.i
		p.skipPast(',')
		end := p.i
		if end > start && p.s[end-1] == ',' {
			end--
			p.i--
		}
		return strings.TrimSpace(p.s[start:end])
	}
	var b strings.Builder
	for p.i++; !p.done() && p.s[p.i] != '"'; p.i++ {
		if p.s[p.i] == '\\' && p.i+1 < len(p.s) {
			p.i++
		}
		b.WriteByte(p.s[p.i])
	}
	if !p.done() {
		p.i++ // the closing quote
	}
	return b.String()
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
