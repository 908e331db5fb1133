package entra

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/servertext"
)

// Claims are the ID token claims status shows.
type Claims struct {
	PreferredUsername string `json:"preferred_username"`
	Name              string `json:"name"`
	OID               string `json:"oid"`
	TID               string `json:"tid"`
	Email             string `json:"email"`
}

// ParseIDToken decodes an ID token's payload without verifying it. Public
// clients need not verify ID tokens (they came straight from the token
// endpoint over TLS), and Entra issues both signed and alg=none tokens, so
// the header and signature are not looked at. The payload may be base64url
// with or without padding. Errors never quote the token.
func ParseIDToken(raw string) (Claims, error) {
	parts := strings.Split(strings.TrimSpace(raw), ".")
	if len(parts) != 3 || parts[1] == "" {
		return Claims{}, errors.New("malformed ID token: want three dot-separated parts")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, errors.New("malformed ID token: the payload is not base64url")
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, errors.New("malformed ID token: the payload is not a JSON object of claims")
	}
	// The names are shown and stored: nothing in them may act on a terminal.
	for _, v := range []*string{&c.PreferredUsername, &c.Name, &c.OID, &c.TID, &c.Email} {
		*v = servertext.Clean(*v)
	}
	return c, nil
}
