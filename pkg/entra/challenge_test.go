package entra

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestParseClaimsChallenge(t *testing.T) {
	const claims = `{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}`
	b64 := "eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWUiOiIxNzAwMDAwMDAwIn19fQ=="
	// Claims whose base64 has '+' and '/' (std) or '-' and '_' (URL).
	const odd = `{"access_token":{"acrs":{"essential":true,"value":"c1>?"}}}`
	oddStd := base64.StdEncoding.EncodeToString([]byte(odd))
	oddURL := base64.RawURLEncoding.EncodeToString([]byte(odd))
	if !strings.ContainsAny(oddStd, "+/") || !strings.ContainsAny(oddURL, "-_") {
		t.Fatalf("test claims do not exercise the alphabets: %s %s", oddStd, oddURL)
	}
	graph := `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="` + b64 + `"`
	for _, tc := range []struct {
		headers []string
		want    string // "" means no challenge
	}{
		{[]string{graph}, claims},
		// The claims-challenge doc's form, without client_id.
		{[]string{`Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="` + b64 + `"`}, claims},
		{[]string{`Bearer error=insufficient_claims, claims="` + b64 + `"`}, claims},
		{[]string{`bearer ERROR="insufficient_claims", Claims="` + b64 + `"`}, claims},
		// Unpadded, and unquoted with its padding.
		{[]string{`Bearer error="insufficient_claims", claims="` + strings.TrimRight(b64, "=") + `"`}, claims},
		{[]string{`Bearer error=insufficient_claims, claims=` + b64 + `, realm=""`}, claims},
		{[]string{`Bearer error="insufficient_claims", claims="` + oddStd + `"`}, odd},
		{[]string{`Bearer error="insufficient_claims", claims="` + oddURL + `"`}, odd},
		{[]string{`Bearer error="insufficient_claims", claims="` + base64.URLEncoding.EncodeToString([]byte(odd)) + `"`}, odd},
		// Several challenges in one header, the claims one not first.
		{[]string{`Negotiate, NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==, ` + graph}, claims},
		{[]string{`PoP realm="", nonce="abc", ` + graph + `, Basic realm="Exchange"`}, claims},
		{[]string{`Basic realm="Exchange", Bearer error="insufficient_claims", claims="` + b64 + `"`}, claims},
		{[]string{`Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXagMDAu==, Bearer error="insufficient_claims", claims="` + b64 + `"`}, claims},
		// Several headers (Exchange sends Bearer beside Basic).
		{[]string{`Basic Realm=""`, graph}, claims},
		// Not a claims challenge.
		{[]string{`Bearer realm="", error="invalid_token", claims="` + b64 + `"`}, ""},
		{[]string{`Bearer realm="", error="insufficient_claims", claims="not base64 json"`}, ""},
		{[]string{`Bearer realm="a, error=\"insufficient_claims\""`}, ""},
		// error and claims from different challenges, or another scheme's.
		{[]string{`Bearer error="insufficient_claims", PoP claims="` + b64 + `"`}, ""},
		{[]string{`PoP error="insufficient_claims", claims="` + b64 + `"`}, ""},
		{[]string{`Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`}, ""},
		{[]string{`Bearer`, `, ,`, `"garbage`, `Bearer error="insufficient_claims", claims="` + b64}, claims},
	} {
		got, ok := ParseClaimsChallenge(tc.headers)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.headers, got, ok, tc.want)
		}
	}
}

// FuzzParseClaimsChallenge feeds arbitrary WWW-Authenticate values to the
// challenge parser: it must not panic or loop, and what it returns as
// claims must be a JSON object.
func FuzzParseClaimsChallenge(f *testing.F) {
	for _, seed := range []string{
		`Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="`,
		`Negotiate YII==, Bearer error=insufficient_claims, claims=eyJhIjp7fX0`,
		`Bearer realm="a\"b`, `, ,=,"`, `Basic`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		claims, ok := ParseClaimsChallenge([]string{header, header})
		if ok && CheckClaims(claims) != nil {
			t.Fatalf("claims %q from %q", claims, header)
		}
	})
}
