package entra

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestDecodeClaims(t *testing.T) {
	const claims = `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
	for _, in := range []string{claims, " " + claims + "\n", base64.StdEncoding.EncodeToString([]byte(claims)), base64.RawURLEncoding.EncodeToString([]byte(claims)), EncodeClaims(claims)} {
		if got, err := DecodeClaims(in); err != nil || got != claims {
			t.Errorf("DecodeClaims(%q) = %q, %v", in, got, err)
		}
	}
	big := `{"access_token":{"x":"` + strings.Repeat("a", MaxClaims) + `"}}`
	for _, bad := range []string{"", "[1]", "not claims", base64.StdEncoding.EncodeToString([]byte("[1]")),
		"null", " null ", EncodeClaims("null"), base64.StdEncoding.EncodeToString([]byte("null")), "1234", big, EncodeClaims(big)} {
		if _, err := DecodeClaims(bad); err == nil {
			t.Errorf("DecodeClaims(%.60q) (%d bytes) accepted", bad, len(bad))
		}
	}
}

// TestServerClaimsNoSignInCanCarry: a token endpoint's claims that are no
// JSON object, or too large, are not passed on to a sign-in.
func TestServerClaimsNoSignInCanCarry(t *testing.T) {
	for claims, want := range map[string]string{
		`{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`: `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`,
		"null": "",
		`{"x":"` + strings.Repeat("a", MaxClaims) + `"}`: "",
	} {
		body, _ := json.Marshal(map[string]any{"error": "invalid_grant", "error_codes": []int{50076}, "claims": claims})
		if got := FromRetrieveError(&oauth2.RetrieveError{Body: body}).Claims; got != want {
			t.Errorf("claims %.30q: got %.30q, want %.30q", claims, got, want)
		}
	}
}
