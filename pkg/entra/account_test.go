package entra

import (
	"errors"
	"strings"
	"testing"
)

func TestSameAccount(t *testing.T) {
	linked := LinkedAccount{Account: "ada@example.com", Subject: "sub-ada", TenantID: "tid-1", ObjectID: "oid-ada"}
	same := Claims{Sub: "sub-ada", TID: "tid-1", OID: "oid-ada", PreferredUsername: "ada@example.com"}
	ok := []struct {
		name   string
		linked LinkedAccount
		c      Claims
	}{
		{"the same account", linked, same},
		{"a new display name", linked, Claims{Sub: "sub-ada", TID: "tid-1", OID: "oid-ada", PreferredUsername: "ada.l@example.com"}},
		{"no oid without the profile scope", linked, Claims{Sub: "sub-ada", TID: "tid-1"}},
		{"an older record without sub learns it", LinkedAccount{Account: "ada@example.com"}, Claims{Sub: "sub-new"}},
	}
	for _, tt := range ok {
		if err := SameAccount(tt.linked, tt.c, "ms365auth link --profile work"); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	bad := []struct {
		name  string
		c     Claims
		claim string
	}{
		{"another sub and email (Dex)", Claims{Sub: "sub-eve", Email: "eve@example.com"}, "sub"},
		{"no sub at all", Claims{TID: "tid-1", OID: "oid-ada"}, "sub"},
		{"another tenant", Claims{Sub: "sub-ada", TID: "tid-2", OID: "oid-ada"}, "tid"},
		{"another user object", Claims{Sub: "sub-ada", TID: "tid-1", OID: "oid-eve"}, "oid"},
	}
	for _, tt := range bad {
		err := SameAccount(linked, tt.c, "ms365auth link --profile work")
		var ace *AccountChangedError
		if !errors.As(err, &ace) || ace.Claim != tt.claim {
			t.Errorf("%s: %v, want an AccountChangedError for %s", tt.name, err, tt.claim)
			continue
		}
		msg := err.Error()
		for _, want := range []string{"another account", "ada@example.com", "nothing from it was kept", "--authority-host", "ms365auth link --profile work"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: %q does not say %q", tt.name, msg, want)
			}
		}
	}
}
