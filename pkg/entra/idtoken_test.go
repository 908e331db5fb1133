package entra

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseIDToken(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	payload := `{"aud":"00000000-1111-2222-3333-444444444444","iss":"https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0","name":"Ada Lovelace","oid":"00000000-0000-0000-66f3-3332eca7ea81","preferred_username":"ada@example.com","tid":"9188040d-6c67-4c5b-b112-36a304b66dad","email":"ada@example.com","ver":"2.0"}`
	want := Claims{PreferredUsername: "ada@example.com", Name: "Ada Lovelace", OID: "00000000-0000-0000-66f3-3332eca7ea81", TID: "9188040d-6c67-4c5b-b112-36a304b66dad", Email: "ada@example.com",
		Iss: "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", Aud: audience{"00000000-1111-2222-3333-444444444444"}}
	// A payload whose length makes padded base64 end in "=".
	padded := base64.URLEncoding.EncodeToString([]byte(payload + " "))
	tests := []struct{ name, token string }{
		{"unsigned (alg none)", b64([]byte(`{"typ":"JWT","alg":"none"}`)) + "." + b64([]byte(payload)) + "."},
		{"signed", b64([]byte(`{"typ":"JWT","alg":"RS256","kid":"abc"}`)) + "." + b64([]byte(payload)) + ".c2lnbmF0dXJl"},
		{"padded payload", "e30." + padded + ".c2ln"},
		{"surrounding space", " e30." + b64([]byte(payload)) + ".\n"},
	}
	if !strings.HasSuffix(padded, "=") {
		t.Fatal("test payload is not padded")
	}
	for _, tt := range tests {
		got, err := ParseIDToken(tt.token)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestParseIDTokenErrors(t *testing.T) {
	secretish := "c2VjcmV0LXBheWxvYWQtdGhhdC1tdXN0LW5vdC1sZWFr"
	for _, tok := range []string{
		"",
		secretish,
		"e30." + secretish,
		"e30..sig",
		"e30.!!" + secretish + ".sig",
		"e30." + base64.RawURLEncoding.EncodeToString([]byte(`["`+secretish+`"]`)) + ".sig",
		"e30." + base64.RawURLEncoding.EncodeToString([]byte(`{"name":`+secretish)) + ".sig",
		"a.b.c.d.e",
	} {
		_, err := ParseIDToken(tok)
		if err == nil {
			t.Errorf("ParseIDToken(%q) = nil error", tok)
			continue
		}
		if strings.Contains(err.Error(), secretish[:12]) || (tok != "" && strings.Contains(err.Error(), tok)) {
			t.Errorf("error quotes the token: %v", err)
		}
	}
}

func TestClaimsAccountFallsBack(t *testing.T) {
	for _, tt := range []struct {
		c    Claims
		want string
	}{
		{Claims{PreferredUsername: "ada@example.com", Email: "e@example.com", Sub: "s"}, "ada@example.com"},
		{Claims{Email: "e@example.com", UPN: "u@example.com", Name: "Ada"}, "e@example.com"},
		{Claims{UPN: "u@example.com", Name: "Ada", Sub: "s"}, "u@example.com"},
		{Claims{PreferredUsername: " ", Name: "Ada", Sub: "s"}, "Ada"},
		{Claims{Sub: "Cg0wLTM4NS0yOD"}, "Cg0wLTM4NS0yOD"},
		{Claims{}, ""},
	} {
		if got := tt.c.Account(); got != tt.want {
			t.Errorf("%+v.Account() = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestAudienceTakesAStringOrAnArray(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	for payload, want := range map[string]audience{
		`{"aud":"a"}`:       {"a"},
		`{"aud":["a","b"]}`: {"a", "b"},
		`{"aud":null}`:      nil,
	} {
		c, err := ParseIDToken("e30." + b64([]byte(payload)) + ".")
		if err != nil || !cmp.Equal(c.Aud, want) {
			t.Errorf("%s: aud %q, %v", payload, c.Aud, err)
		}
	}
}

func TestCheckIDToken(t *testing.T) {
	const (
		client = "00000000-1111-2222-3333-444444444444"
		tid    = "6f1c3b9e-2d4a-4c8e-9b7f-0a5d3e2c1b48"
	)
	now := time.Unix(1_800_000_000, 0)
	good := func(iss string) Claims {
		return Claims{Aud: audience{client}, Iss: iss, TID: tid, Exp: float64(now.Add(time.Hour).Unix())}
	}
	global := func(tenant string) string { return "https://login.microsoftonline.com/" + tenant + "/v2.0" }
	ok := []struct {
		host, tenant string
		c            Claims
	}{
		{"", "common", good(global(tid))},
		{"", "organizations", good(global(tid))},
		{"", "contoso.onmicrosoft.com", good(global(tid))},
		{"", tid, good(global(tid))},
		{"", "consumers", good(global(ConsumersTenantID))},
		{"https://login.windows.net", "common", good(global(tid))},
		{"https://login.microsoftonline.us", "common", good("https://login.microsoftonline.us/" + tid + "/v2.0")},
		{"https://login.chinacloudapi.cn", "common", good("https://login.partner.microsoftonline.cn/" + tid + "/v2.0")},
		{"http://127.0.0.1:8080", "common", good(global(tid))},
		{"http://127.0.0.1:8080", "common", good("http://127.0.0.1:8080/" + tid + "/v2.0")},
		{"https://id.example.org", "common", Claims{Aud: audience{"other", client}, Azp: client, Iss: "https://id.example.org/common/v2.0", Exp: float64(now.Unix())}},
		{"", "common", func() Claims { c := good(global(tid)); c.Azp = client; return c }()},
		{"", "common", func() Claims {
			c := good(global(tid))
			c.Exp = float64(now.Add(-IDTokenSkew + time.Second).Unix())
			return c
		}()},
	}
	for _, tt := range ok {
		a, err := ParseAuthority(tt.host, tt.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.CheckIDToken(tt.c, client, now); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}

	bad := []struct {
		host, tenant string
		c            Claims
		want         string
	}{
		{"", "common", func() Claims { c := good(global(tid)); c.Aud = audience{"someone-else"}; return c }(), "--client-id"},
		{"", "common", func() Claims { c := good(global(tid)); c.Aud = nil; return c }(), "--client-id"},
		// OpenID Connect Core 3.1.3.7 steps 3 to 5: several audiences
		// need an azp, and an azp must be this client.
		{"", "common", func() Claims { c := good(global(tid)); c.Aud = audience{client, "other"}; return c }(), "no authorized party (azp)"},
		{"", "common", func() Claims { c := good(global(tid)); c.Azp = "other"; return c }(), "azp \"other\""},
		{"", "common", func() Claims {
			c := good(global(tid))
			c.Aud, c.Azp = audience{client, "other"}, "other"
			return c
		}(), "azp \"other\""},
		{"", "common", good(global("72f988bf-86f1-41af-91ab-2d7cd011db47")), "--tenant"},
		{"", "common", good("https://evil.example/" + tid + "/v2.0"), "--authority-host"},
		{"", "consumers", good(global(tid)), "--tenant"},
		{"", "72f988bf-86f1-41af-91ab-2d7cd011db47", good(global(tid)), "--tenant"},
		{"https://login.microsoftonline.us", "common", good(global(tid)), "--authority-host"},
		{"https://id.example.org", "common", good(global(tid)), "--authority-host"},
		{"", "common", func() Claims { c := good(global(tid)); c.Iss = ""; return c }(), "--authority-host"},
		{"", "common", func() Claims { c := good(global(tid)); c.Exp = 0; return c }(), "no expiry"},
		{"", "common", func() Claims {
			c := good(global(tid))
			c.Exp = float64(now.Add(-IDTokenSkew - time.Second).Unix())
			return c
		}(), "clock"},
	}
	for _, tt := range bad {
		a, _ := ParseAuthority(tt.host, tt.tenant)
		err := a.CheckIDToken(tt.c, client, now)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s, %+v: %v, want an error mentioning %q", a, tt.c, err, tt.want)
		}
	}
}
