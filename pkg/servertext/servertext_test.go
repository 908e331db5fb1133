package servertext

import (
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"Adele\x1b]0;pwned\x07 Vance": "Adele ]0;pwned  Vance",
		"a\x1b[2Jb":                   "a [2Jb",
		"line\r\nfake: line":          "line  fake: line",
		"\u202egnp.exe":               "gnp.exe",
		"a\u2066b\u2069c\u200fd":      "abcd",
		"csi\u009b31m":                "csi 31m",
		"raw\x9b31m":                  "raw\ufffd31m",
		"del\x7f":                     "del ",
		"Adèle Vance":                 "Adèle Vance",
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Lines("one\x1b\ntwo\u202e"); got != "one \ntwo" {
		t.Errorf("Lines: %q", got)
	}
}

func TestRedact(t *testing.T) {
	const rt = "1.AXoAnjscb0otjkybfwpdPiwbSD6aWw9sb05MnUccKjtMXW6AAA.AgABAwEAAADW6jl31mB3T7ugrWTT8pFeAwDs_wUA9P8"
	const secret = "Xq38Q~f7bB0uJxYx2oZ3rR.QZLm5dNq_9aKeDcUx"
	for _, tc := range []struct{ in, want string }{
		{"AADSTS900144: body: grant_type=refresh_token&refresh_token=" + rt + "&client_id=0f5b9a3e-6f0c-4c4e-9d47-1c2a3b4c5d6e",
			"AADSTS900144: body: grant_type=refresh_token&refresh_token=[redacted]&client_id=0f5b9a3e-6f0c-4c4e-9d47-1c2a3b4c5d6e"},
		{`echo {"client_secret":"short1"}`, `echo {"client_secret":"[redacted]"}`},
		{"code=abc&state=x", "code=[redacted]&state=x"},
		{"see https://login.microsoftonline.com/error?code=50011", "see https://login.microsoftonline.com/error?code=50011"},
		{"secret " + secret + " leaked", "secret [redacted] leaked"},
		{"token " + rt, "token [redacted]"},
		{"The redirect URI 'http://localhost:8400/api/ms365auth' specified in the request does not match", ""},
		{"Application with identifier '0F5B9A3E-6F0C-4C4E-9D47-1C2A3B4C5D6E' was not found in the directory 'contoso.onmicrosoft.com'", ""},
		{"scope https://outlook.office.com/IMAP.AccessAsUser.All offline_access is not valid", ""},
		{"error_codes 700016, device_code expired", ""},
		{"could not redeem the authorization code: AADSTS7000218: The request body must contain", ""},
		{`{"code": "abc", "password":"pw"}`, `{"code": "[redacted]", "password":"[redacted]"}`},
	} {
		want := tc.want
		if want == "" {
			want = tc.in
		}
		if got := Redact(tc.in); got != want {
			t.Errorf("Redact(%q)\n = %q\nwant %q", tc.in, got, want)
		}
		if strings.Contains(Redact(tc.in), rt) || strings.Contains(Redact(tc.in), secret) {
			t.Errorf("a secret survived: %q", Redact(tc.in))
		}
	}
}
