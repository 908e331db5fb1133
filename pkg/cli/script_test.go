package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs the CLI scenarios in testdata/script/*.txtar with the
// real binary on PATH and the private keyring of this test process.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("..", "..", "testdata", "script"),
		Setup: func(e *testscript.Env) error {
			e.Setenv("PATH", filepath.Dir(binary)+string(os.PathListSeparator)+e.Getenv("PATH"))
			e.Setenv("DBUS_SESSION_BUS_ADDRESS", os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
			for _, v := range []string{"XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"} {
				dir := filepath.Join(e.WorkDir, "xdg", v)
				if err := os.MkdirAll(dir, 0o700); err != nil {
					return err
				}
				e.Setenv(v, dir)
			}
			e.Setenv("NO_COLOR", "1")
			// Every script gets its own profile names in the shared keyring.
			e.Setenv("MS365AUTH_PROFILE", "script-"+filepath.Base(e.WorkDir))
			return nil
		},
	})
}
