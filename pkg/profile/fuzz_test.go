package profile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzLoad reads arbitrary settings files: Load either fails or returns a
// usable config (no nil profiles, names filled in), and whatever it
// returns survives Save and Load unchanged, with mode 0600.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"profiles":{"default":{"client_id":"0f5b9a3e-6f0c-4c4e-9d47-1c2a3b4c5d6e","tenant":"common","scopes":["User.Read","offline_access"],"method":"paste","redirect_uri":"https://login.microsoftonline.com/common/oauth2/nativeclient","store":"keyring"}}}`))
	f.Add([]byte(`{"profiles":{"work":{"client_id":"x","method":"alt","listen":"127.0.0.1:8080","tls_cert":"/c.pem","tls_key":"/k.pem","confidential":true},"gone":null}}`))
	f.Add([]byte(`{"profiles":null}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(``))
	f.Add([]byte(`{"profiles":{"a":{"scopes":[]}},"PROFILES":{"b":{}}}`))
	f.Add([]byte(`{"profiles":{"\xff":{"client_id":"\xfe"}}}`))
	f.Add([]byte(`{"profiles":{"a":{"sandbox":"yes"}}}`))
	f.Add([]byte(`[1,2,3]`))

	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "in.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			if c != nil {
				t.Fatal("a config with an error")
			}
			return
		}
		if c.Profiles == nil {
			t.Fatal("nil Profiles")
		}
		for name, p := range c.Profiles {
			if p == nil || p.Name != name {
				t.Fatalf("profile %q: %+v", name, p)
			}
		}

		c.path = filepath.Join(dir, "out.json")
		if err := c.Save(); err != nil {
			t.Fatalf("Save of a loaded config: %v", err)
		}
		if fi, err := os.Stat(c.path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("saved file mode %v (%v)", fi.Mode(), err)
		}
		back, err := Load(c.path)
		if err != nil {
			t.Fatalf("Load of a saved config: %v", err)
		}
		if diff := cmp.Diff(c.Profiles, back.Profiles, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("Save/Load round trip mismatch (-want +got):\n%s", diff)
		}
	})
}
