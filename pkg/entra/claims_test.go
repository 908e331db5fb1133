package entra

import (
	"encoding/base64"
	"testing"
)

func TestDecodeClaims(t *testing.T) {
	const claims = `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
	for _, in := range []string{claims, " " + claims + "\n", base64.StdEncoding.EncodeToString([]byte(claims)), base64.RawURLEncoding.EncodeToString([]byte(claims)), EncodeClaims(claims)} {
		if got, err := DecodeClaims(in); err != nil || got != claims {
			t.Errorf("DecodeClaims(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "[1]", "not claims", base64.StdEncoding.EncodeToString([]byte("[1]"))} {
		if _, err := DecodeClaims(bad); err == nil {
			t.Errorf("DecodeClaims(%q) accepted", bad)
		}
	}
}
