//go:build windows

package store

// Tests against Windows' real Credential Manager (CredWriteW and friends,
// through go-keyring and wincred). .ci/run runs them under Wine, whose
// advapi32 implements the same API; CI's Windows runner runs them natively.

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/danieljoos/wincred"
	"github.com/google/go-cmp/cmp"
)

// TestRealCredentialManager: a record several times the 2,560-byte blob
// limit is saved as items that each fit, read back whole, overwritten, and
// deleted without leaving an item behind.
func TestRealCredentialManager(t *testing.T) {
	k := NewKeyring()
	if k.MaxItemSize != WindowsMaxItemSize {
		t.Fatalf("NewKeyring's MaxItemSize = %d, want %d", k.MaxItemSize, WindowsMaxItemSize)
	}
	// A service of its own: a developer's real credentials stay untouched.
	k.Service = fmt.Sprintf("ms365auth-test-%d", os.Getpid())
	t.Cleanup(func() { k.Delete("work") })

	for i, size := range []int{12 << 10, 6 << 10} {
		want := sizedRecord(t, size, uint64(i))
		if err := k.Save("work", want); err != nil {
			t.Fatalf("Save of %d bytes: %v", size, err)
		}
		got, err := k.Load("work")
		if err != nil {
			t.Fatalf("Load of %d bytes: %v", size, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Load of %d bytes (-want +got):\n%s", size, diff)
		}
		blobs := credentials(t, k.Service)
		if len(blobs) < size/WindowsMaxItemSize {
			t.Errorf("%d bytes are in %d credentials, want at least %d", size, len(blobs), size/WindowsMaxItemSize)
		}
		for name, n := range blobs {
			if n > WindowsMaxItemSize {
				t.Errorf("credential %s holds %d bytes, over %d", name, n, WindowsMaxItemSize)
			}
		}
	}

	if err := k.Delete("work"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Load("work"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load after Delete: %v, want ErrNotFound", err)
	}
	if left := credentials(t, k.Service); len(left) != 0 {
		t.Errorf("credentials left after Delete: %v", left)
	}
}

// credentials lists, as the Credential Manager reports them, the size of
// each credential go-keyring wrote for service (its target names are
// "service:user").
func credentials(t *testing.T, service string) map[string]int {
	t.Helper()
	all, err := wincred.List()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, c := range all {
		if !strings.HasPrefix(c.TargetName, service+":") {
			continue
		}
		g, err := wincred.GetGenericCredential(c.TargetName)
		if err != nil {
			t.Fatal(err)
		}
		out[c.TargetName] = len(g.CredentialBlob)
	}
	return out
}
