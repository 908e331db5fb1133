package store

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// token returns n characters that look like a JWT or refresh token, the
// same for the same seed.
func token(n int, seed uint64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	r := rand.New(rand.NewPCG(seed, 42))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

var t0 = time.Date(2025, 11, 26, 13, 54, 0, 0, time.UTC)

// realisticRecord has Entra-sized tokens: a 1,500-character access token
// and a 1,100-character refresh token, and a non-ASCII display name.
func realisticRecord(seed uint64) *Record {
	return &Record{
		AccessToken:  token(1500, seed),
		TokenType:    "Bearer",
		Expiry:       t0.Add(time.Hour),
		RefreshToken: token(1100, seed+1),
		Scopes:       []string{"https://graph.microsoft.com/Mail.Read", "https://graph.microsoft.com/User.Read", "offline_access", "openid", "profile"},
		Account:      "zoe.mueller@contoso.onmicrosoft.com",
		Name:         "Zoë Müller — Ops",
		TenantID:     "72f988bf-86f1-41af-91ab-2d7cd011db47",
		ObjectID:     "4f2b1c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
		LinkedAt:     t0,
	}
}

// sizedRecord is a record whose JSON is exactly n bytes, padded with its
// access token; seed varies the content.
func sizedRecord(t testing.TB, n int, seed uint64) *Record {
	t.Helper()
	r := realisticRecord(seed)
	r.AccessToken, r.RefreshToken = "", token(40, seed+1)
	r.Scopes = r.Scopes[:2]
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > n {
		t.Fatalf("a record without an access token is already %d bytes, want at most %d", len(b), n)
	}
	r.AccessToken = token(n-len(b), seed)
	return r
}
