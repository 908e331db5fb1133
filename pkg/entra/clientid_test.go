package entra

import (
	"strings"
	"testing"
)

func TestClientIDProblem(t *testing.T) {
	const guid = "0f5b9a3e-6f0c-4c4e-9d47-1c2a3b4c5d6e"
	for _, tt := range []struct {
		host, clientID string
		refused        bool
	}{
		{DefaultAuthorityHost, guid, false},
		{DefaultAuthorityHost, "nonsense", true},
		{"https://login.microsoftonline.us", "my-app", true},
		{"https://login.partner.microsoftonline.cn", "my-app", true},
		{"https://login.windows.net", "my-app", true},
		{"https://contoso.b2clogin.com", "my-app", true},
		{"https://contoso.ciamlogin.com", "my-app", true},
		{"https://id.example.com", "my-app", false}, // another OpenID Connect server
		{"http://127.0.0.1:8080", "my-app", false},  // a stand-in
	} {
		problem := ClientIDProblem(tt.host, tt.clientID)
		if (problem != "") != tt.refused {
			t.Errorf("ClientIDProblem(%s, %s) = %q, want refused %t", tt.host, tt.clientID, problem, tt.refused)
		}
		if problem != "" && strings.Contains(problem, tt.clientID) {
			t.Errorf("the problem echoes the value (it may be a secret): %q", problem)
		}
	}
}
