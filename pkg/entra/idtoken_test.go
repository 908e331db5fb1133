package entra

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseIDToken(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	payload := `{"aud":"00000000-1111-2222-3333-444444444444","iss":"https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0","name":"Ada Lovelace","oid":"00000000-0000-0000-66f3-3332eca7ea81","preferred_username":"ada@example.com","tid":"9188040d-6c67-4c5b-b112-36a304b66dad","email":"ada@example.com","ver":"2.0"}`
	want := Claims{PreferredUsername: "ada@example.com", Name: "Ada Lovelace", OID: "00000000-0000-0000-66f3-3332eca7ea81", TID: "9188040d-6c67-4c5b-b112-36a304b66dad", Email: "ada@example.com"}
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
