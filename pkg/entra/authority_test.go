package entra

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

func TestParseAuthority(t *testing.T) {
	tests := []struct {
		host, tenant string
		want         Authority
	}{
		{"", "", Authority{DefaultAuthorityHost, "common"}},
		{"  ", " ", Authority{DefaultAuthorityHost, "common"}},
		{"https://login.microsoftonline.com/", "organizations", Authority{DefaultAuthorityHost, "organizations"}},
		{"HTTPS://Login.MicrosoftOnline.US", "Consumers", Authority{"https://login.microsoftonline.us", "consumers"}},
		{"https://login.partner.microsoftonline.cn:443", "contoso.onmicrosoft.com", Authority{"https://login.partner.microsoftonline.cn:443", "contoso.onmicrosoft.com"}},
		{"http://127.0.0.1:38517", "9188040D-6C67-4C5B-B112-36A304B66DAD", Authority{"http://127.0.0.1:38517", "9188040d-6c67-4c5b-b112-36a304b66dad"}},
		{"http://localhost:8080/", "common", Authority{"http://localhost:8080", "common"}},
		{"http://[::1]:9000", "common", Authority{"http://[::1]:9000", "common"}},
		{"http://127.8.9.10", "my-org.example", Authority{"http://127.8.9.10", "my-org.example"}},
	}
	for _, tt := range tests {
		got, err := ParseAuthority(tt.host, tt.tenant)
		if err != nil {
			t.Errorf("ParseAuthority(%q, %q): %v", tt.host, tt.tenant, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseAuthority(%q, %q) mismatch (-want +got):\n%s", tt.host, tt.tenant, diff)
		}
	}
}

func TestParseAuthorityErrors(t *testing.T) {
	tests := []struct {
		host, tenant string
		wantIn       string // a piece of the message that tells what to pass
	}{
		{"http://login.microsoftonline.com", "", "http is allowed only for loopback"},
		{"http://10.0.0.1", "", "loopback"},
		{"ftp://login.microsoftonline.com", "", "https"},
		{"login.microsoftonline.com", "", "https://login.microsoftonline.com"},
		{"https://login.microsoftonline.com/common", "", "path"},
		{"https://login.microsoftonline.com?x=1", "", "query"},
		{"https://user@login.microsoftonline.com", "", "user info"},
		{"https://", "", "host"},
		{"", "comon", "--tenant"},
		{"", "contoso", "--tenant"},
		{"", "contoso.onmicrosoft.com/x", "--tenant"},
		{"", "-bad-.example", "--tenant"},
		{"", "9188040d-6c67-4c5b-b112", "--tenant"},
		{"", "a..b", "--tenant"},
		{"", "common organizations", "--tenant"},
	}
	for _, tt := range tests {
		_, err := ParseAuthority(tt.host, tt.tenant)
		if err == nil {
			t.Errorf("ParseAuthority(%q, %q) = nil error, want one", tt.host, tt.tenant)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.wantIn) || strings.Contains(msg, "\n") || msg != strings.ToLower(msg[:1])+msg[1:] {
			t.Errorf("ParseAuthority(%q, %q) error %q: want one lower-case line containing %q", tt.host, tt.tenant, msg, tt.wantIn)
		}
	}
}

func TestEndpoint(t *testing.T) {
	a, err := ParseAuthority("http://127.0.0.1:5555/", "contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	want := oauth2.Endpoint{
		AuthURL:       "http://127.0.0.1:5555/contoso.com/oauth2/v2.0/authorize",
		TokenURL:      "http://127.0.0.1:5555/contoso.com/oauth2/v2.0/token",
		DeviceAuthURL: "http://127.0.0.1:5555/contoso.com/oauth2/v2.0/devicecode",
		AuthStyle:     oauth2.AuthStyleInParams,
	}
	if diff := cmp.Diff(want, a.Endpoint()); diff != "" {
		t.Errorf("Endpoint mismatch (-want +got):\n%s", diff)
	}
	if got, want := a.String(), "http://127.0.0.1:5555/contoso.com"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	// The MFA redirect URI is the authorize endpoint of "organizations".
	org := Authority{DefaultAuthorityHost, "organizations"}
	if got := org.Endpoint().AuthURL; got != MFARedirectURI {
		t.Errorf("organizations AuthURL = %q, want %q", got, MFARedirectURI)
	}
}

func TestAuthorityIsMicrosoft(t *testing.T) {
	for host, want := range map[string]bool{
		"":                                  true,
		"https://login.microsoftonline.com": true,
		"https://login.microsoftonline.us":  true,
		"https://login.chinacloudapi.cn":    true,
		"http://127.0.0.1:8080":             true, // the sandbox
		"https://idp.example.org":           false,
		"https://login.microsoftonline.com.evil.example": false,
	} {
		a, err := ParseAuthority(host, "common")
		if err != nil {
			t.Fatal(err)
		}
		if got := a.IsMicrosoft(); got != want {
			t.Errorf("%q: IsMicrosoft %t, want %t", host, got, want)
		}
	}
}
