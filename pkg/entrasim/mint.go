package entrasim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ms365auth/ms365auth/pkg/random"
)

var b64 = base64.RawURLEncoding

func randomBytes(n int) []byte { return random.Bytes(n) }

// randomB64 returns n random base64url characters.
func randomB64(n int) string { return random.Text(n) }

// randomInt returns a number in [0, n).
func randomInt(n int) int { return int(binary.BigEndian.Uint32(randomBytes(4)) % uint32(n)) }

func newGUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newCode mints an authorization code shaped like Entra's: work and school
// codes are "0.A" and three base64url segments, 1,000-1,100 characters in
// all; personal-account codes are short "M.C5xx_BAY.2.U.<guid>" values.
func newCode(msa bool) string {
	if msa {
		return fmt.Sprintf("M.C5%02d_BAY.2.U.%s", 10+randomInt(90), newGUID())
	}
	total := 1000 + randomInt(101)
	first, second := 360+randomInt(40), 520+randomInt(40)
	third := total - 3 - first - 1 - second - 1
	return "0.A" + randomB64(first) + "." + randomB64(second) + "." + randomB64(third)
}

// newRefreshToken mints an opaque refresh token of a realistic size.
func newRefreshToken(msa bool) string {
	if msa {
		return "M.C5" + fmt.Sprintf("%02d", 10+randomInt(90)) + "_BAY.0.U.-" + randomB64(380+randomInt(40))
	}
	return "1.A" + randomB64(420+randomInt(40)) + "." + randomB64(560+randomInt(40)) + "." + randomB64(300+randomInt(80))
}

// newDeviceCode mints an opaque device_code.
func newDeviceCode() string { return "DAQABIQEAAAD" + randomB64(300+randomInt(40)) }

// newUserCode mints the 9-character code a person types at /devicelogin.
func newUserCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := randomBytes(9)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// clientInfo is what Entra returns for client_info=1: base64url without
// padding of {"uid":oid,"utid":tid}, MSAL's home account ID.
func clientInfo(u *User) string {
	b, _ := json.Marshal(struct {
		UID  string `json:"uid"`
		UTID string `json:"utid"`
	}{u.OID, u.TenantID})
	return b64.EncodeToString(b)
}

// pairwiseSub is the sub claim: stable per user and app, different between
// apps, as Entra's is.
func pairwiseSub(u *User, clientID string) string {
	h := sha256.Sum256([]byte(u.OID + "|" + clientID))
	return b64.EncodeToString(h[:])[:43]
}

// signingKID is the key ID the fake signatures claim to be made with.
const signingKID = "entrasim-fake-signing-key"

// jwt assembles header.payload.signature with a random (fake) RS256-sized
// signature.
func jwt(header, payload any) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(payload)
	return b64.EncodeToString(h) + "." + b64.EncodeToString(p) + "." + b64.EncodeToString(randomBytes(256))
}

// idTokenClaims are the claims of an ID token, in Entra's v2.0 shape.
// name, preferred_username and oid need the profile scope; email needs email.
type idTokenClaims struct {
	Aud               string `json:"aud"`
	Iss               string `json:"iss"`
	Iat               int64  `json:"iat"`
	Nbf               int64  `json:"nbf"`
	Exp               int64  `json:"exp"`
	Email             string `json:"email,omitempty"`
	Name              string `json:"name,omitempty"`
	Nonce             string `json:"nonce,omitempty"`
	OID               string `json:"oid,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	RH                string `json:"rh"`
	Sub               string `json:"sub"`
	TID               string `json:"tid"`
	UTI               string `json:"uti"`
	Ver               string `json:"ver"`
}

func newIDToken(u *User, clientID string, scopes []scope, nonce string, now time.Time, o otherServer) string {
	c := idTokenClaims{
		Aud: clientID,
		// Entra's issuer names the global host whatever host served the
		// request, so the double's tokens read like real ones.
		Iss:   "https://login.microsoftonline.com/" + u.TenantID + "/v2.0",
		Iat:   now.Unix(),
		Nbf:   now.Unix(),
		Exp:   now.Add(time.Hour).Unix(),
		Nonce: nonce,
		RH:    "0.A" + randomB64(60) + ".",
		Sub:   pairwiseSub(u, clientID),
		TID:   u.TenantID,
		UTI:   randomB64(22),
		Ver:   "2.0",
	}
	if hasScope(scopes, "profile") {
		c.Name, c.PreferredUsername, c.OID = u.Name, u.Username, u.OID
	}
	if hasScope(scopes, "email") && strings.Contains(u.Username, "@") {
		c.Email = u.Username
	}
	return jwt(map[string]string{"typ": "JWT", "alg": "RS256", "kid": signingKID}, o.editedClaims(c))
}

// accessTokenClaims imitate a v1 Graph access token. Clients must treat
// access tokens as opaque; the claims are there so a person debugging can
// read them, and the length (about 1,500-1,700 characters) is what real
// ones weigh, which matters for storage limits.
type accessTokenClaims struct {
	Aud        string   `json:"aud"`
	Iss        string   `json:"iss"`
	Iat        int64    `json:"iat"`
	Nbf        int64    `json:"nbf"`
	Exp        int64    `json:"exp"`
	Acr        string   `json:"acr"`
	Aio        string   `json:"aio"`
	Amr        []string `json:"amr"`
	AppName    string   `json:"app_displayname"`
	AppID      string   `json:"appid"`
	AppIDAcr   string   `json:"appidacr"`
	IDTyp      string   `json:"idtyp"`
	Name       string   `json:"name"`
	OID        string   `json:"oid"`
	Scp        string   `json:"scp"`
	Sub        string   `json:"sub"`
	TID        string   `json:"tid"`
	UniqueName string   `json:"unique_name"`
	UPN        string   `json:"upn"`
	UTI        string   `json:"uti"`
	Ver        string   `json:"ver"`
}

func newAccessToken(u *User, app *App, resource, scp string, mfa bool, now, exp time.Time) string {
	if u.TenantID == ConsumersTenantID {
		// Personal-account access tokens are opaque blobs, not JWTs.
		return "EwB" + randomB64(1500+randomInt(200))
	}
	amr := []string{"pwd"}
	if mfa {
		amr = append(amr, "mfa")
	}
	c := accessTokenClaims{
		Aud: resource, Iss: "https://sts.windows.net/" + u.TenantID + "/",
		Iat: now.Unix(), Nbf: now.Unix(), Exp: exp.Unix(),
		Acr: "1", Amr: amr, AppName: app.Name, AppID: app.ClientID, AppIDAcr: "0", IDTyp: "user",
		Name: u.Name, OID: u.OID, Scp: scp, Sub: randomB64(43), TID: u.TenantID,
		UniqueName: u.Username, UPN: u.Username, UTI: randomB64(22), Ver: "1.0",
	}
	header := map[string]string{"typ": "JWT", "nonce": randomB64(43), "alg": "RS256", "x5t": signingKID, "kid": signingKID}
	tok := jwt(header, c)
	// Pad aio (an opaque claim in real tokens too) to a realistic length.
	if short := 1500 + randomInt(200) - len(tok); short > 0 {
		c.Aio = randomB64(short*3/4 + 4)
		tok = jwt(header, c)
	}
	return tok
}
