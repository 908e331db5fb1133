package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// platforms are the limits NewKeyring picks, each with a backend that
// enforces the real platform's rule.
var platforms = []struct {
	name    string
	max     int
	backend func() *LimitedBackend
}{
	{"windows", WindowsMaxItemSize, func() *LimitedBackend { return &LimitedBackend{Limit: 2560} }},
	{"darwin", DarwinMaxItemSize, func() *LimitedBackend { return &LimitedBackend{CommandLimit: 4096} }},
	{"linux", 0, func() *LimitedBackend { return &LimitedBackend{} }},
}

func TestMaxItemSizeByGOOS(t *testing.T) {
	for goos, want := range map[string]int{"windows": 2560, "darwin": 2000, "linux": 0, "freebsd": 0} {
		if got := maxItemSize(goos); got != want {
			t.Errorf("maxItemSize(%q) = %d, want %d", goos, got, want)
		}
	}
}

// The arithmetic in DarwinMaxItemSize's comment, checked against the
// longest item name this package can produce.
func TestDarwinItemFitsGoKeyringCommand(t *testing.T) {
	profile := strings.Repeat("p", maxProfileLen)
	head, err := secretItem(profile)
	if err != nil {
		t.Fatal(err)
	}
	user := chunkItem(head, "0123456789abcdef", maxChunks-1)
	value := strings.Repeat("\xff", DarwinMaxItemSize) // any bytes: base64 makes length content-independent
	if n := DarwinCommandLen(ServiceName, user, value); n > 4096 {
		t.Errorf("go-keyring's command for a %d-byte value is %d bytes, over 4096", DarwinMaxItemSize, n)
	}
}

func TestShellQuoteMatchesGoKeyring(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "''",
		"ms365auth":                 "ms365auth",
		"p:client-secret":           "p:client-secret",
		"p#0a#1":                    "'p#0a#1'",
		"go-keyring-base64:ab+/c==": "go-keyring-base64:ab+/c==",
		"it's":                      `'it'"'"'s'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRoundTripUnderLimits(t *testing.T) {
	for _, p := range platforms {
		for _, size := range []int{500, 4 << 10, 12 << 10} {
			t.Run(fmt.Sprintf("%s/%d", p.name, size), func(t *testing.T) {
				b := p.backend()
				k := &Keyring{Backend: b, MaxItemSize: p.max}
				want := sizedRecord(t, size, 1)
				if err := k.Save("work", want); err != nil {
					t.Fatal(err)
				}
				got, err := k.Load("work")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Load mismatch (-want +got):\n%s", diff)
				}
				items := 1
				if p.max > 0 && size > p.max {
					items += (size + p.max - 1) / p.max // cuts at rune starts may add one
				}
				if n := len(b.Users(ServiceName)); n < items || n > items+1 {
					t.Errorf("%d items stored, want %d: %q", n, items, b.Users(ServiceName))
				}
			})
		}
	}
}

// Replacing a value many times keeps at most two generations of chunks, and
// a value that fits leaves none.
func TestOverwriteKeepsTwoGenerations(t *testing.T) {
	b := &LimitedBackend{Limit: 2560}
	k := &Keyring{Backend: b, MaxItemSize: WindowsMaxItemSize}
	for i, size := range []int{12 << 10, 4 << 10, 12 << 10, 6 << 10, 500} {
		want := sizedRecord(t, size, uint64(i))
		if err := k.Save("p", want); err != nil {
			t.Fatal(err)
		}
		got, err := k.Load("p")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("save %d: Load mismatch (-want +got):\n%s", i, diff)
		}
		gens := map[string]bool{}
		for _, u := range b.Users(ServiceName) {
			if parts := strings.Split(u, "#"); len(parts) == 3 {
				gens[parts[1]] = true
			}
		}
		if len(gens) > 2 {
			t.Errorf("save %d: %d generations stored, want at most 2", i, len(gens))
		}
	}
	if got := b.Users(ServiceName); !slices.Equal(got, []string{"p"}) {
		t.Errorf("after a small save, items = %q, want only the head", got)
	}
}

func TestSecretRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name, secret string
		max          int
	}{
		{"short", "abc8Q~fake.client-secret_value", 0},
		{"longer than the item limit", token(3000, 7), WindowsMaxItemSize},
		{"looks like a manifest", manifestPrefix + `{"gen":"00","n":1}`, 0},
		{"looks like a manifest, limited", manifestPrefix + token(3000, 8), WindowsMaxItemSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &LimitedBackend{Limit: 2560}
			k := &Keyring{Backend: b, MaxItemSize: tc.max}
			if err := k.SaveSecret("p", tc.secret); err != nil {
				t.Fatal(err)
			}
			got, err := k.LoadSecret("p")
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.secret {
				t.Errorf("LoadSecret returned %d bytes that differ from the %d saved", len(got), len(tc.secret))
			}
			if _, err := k.Load("p"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Load after SaveSecret: %v, want ErrNotFound (separate items)", err)
			}
			if err := k.DeleteSecret("p"); err != nil {
				t.Fatal(err)
			}
			if got := b.Users(ServiceName); len(got) != 0 {
				t.Errorf("after DeleteSecret, items left: %q", got)
			}
			if _, err := k.LoadSecret("p"); !errors.Is(err, ErrNotFound) {
				t.Errorf("LoadSecret after delete: %v, want ErrNotFound", err)
			}
		})
	}
}

// On Linux the hot path is one item, one read.
func TestNoLimitUsesOneItemAndOneRead(t *testing.T) {
	b := &LimitedBackend{}
	k := &Keyring{Backend: b}
	if err := k.Save("p", sizedRecord(t, 12<<10, 3)); err != nil {
		t.Fatal(err)
	}
	if got := b.Users(ServiceName); !slices.Equal(got, []string{"p"}) {
		t.Errorf("items = %q, want [p]", got)
	}
	if got, want := b.Calls(), (Calls{Get: 1, Set: 1}); got != want {
		t.Errorf("Save calls = %+v, want %+v (read the old head, write the new)", got, want)
	}
	b.ResetCalls()
	if _, err := k.Load("p"); err != nil {
		t.Fatal(err)
	}
	if got, want := b.Calls(), (Calls{Get: 1}); got != want {
		t.Errorf("Load calls = %+v, want %+v", got, want)
	}
}

func TestFailedSaveKeepsOldRecord(t *testing.T) {
	injected := errors.New("injected: Credential Manager refused")
	for _, old := range []int{500, 4 << 10} {
		// A 12 KB record under 2560 is 5 chunks and a head: fail each write.
		for n := 1; n <= 6; n++ {
			t.Run(fmt.Sprintf("old %d/fail write %d", old, n), func(t *testing.T) {
				b := &LimitedBackend{Limit: 2560}
				k := &Keyring{Backend: b, MaxItemSize: WindowsMaxItemSize}
				want := sizedRecord(t, old, 1)
				if err := k.Save("p", want); err != nil {
					t.Fatal(err)
				}
				before := b.Users(ServiceName)
				b.FailSet(n, injected)
				if err := k.Save("p", sizedRecord(t, 12<<10, 2)); !errors.Is(err, injected) {
					t.Fatalf("Save: %v, want the injected error", err)
				}
				got, err := k.Load("p")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Load after failed Save mismatch (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(before, b.Users(ServiceName)); diff != "" {
					t.Errorf("items changed by the failed Save (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestSaveWritesNothingWhenEncodingFails(t *testing.T) {
	b := &LimitedBackend{}
	k := &Keyring{Backend: b}
	want := realisticRecord(1)
	if err := k.Save("p", want); err != nil {
		t.Fatal(err)
	}
	b.ResetCalls()
	bad := realisticRecord(2)
	bad.Expiry = bad.Expiry.AddDate(10000, 0, 0) // JSON cannot encode years past 9999
	if err := k.Save("p", bad); err == nil {
		t.Fatal("Save of an unencodable record succeeded")
	}
	if c := b.Calls(); c.Set != 0 || c.Delete != 0 {
		t.Errorf("calls = %+v, want no writes", c)
	}
	got, err := k.Load("p")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
}

func TestDeleteRemovesEveryItem(t *testing.T) {
	for _, p := range platforms {
		t.Run(p.name, func(t *testing.T) {
			b := p.backend()
			k := &Keyring{Backend: b, MaxItemSize: p.max}
			// Two big saves: a current and a previous generation.
			for seed := range uint64(2) {
				if err := k.Save("p", sizedRecord(t, 12<<10, seed)); err != nil {
					t.Fatal(err)
				}
			}
			if err := k.SaveSecret("p", token(3000, 9)); err != nil {
				t.Fatal(err)
			}
			if err := k.Delete("p"); err != nil {
				t.Fatal(err)
			}
			for _, u := range b.Users(ServiceName) {
				if !strings.HasPrefix(u, "p:client-secret") {
					t.Errorf("after Delete, record item %q left", u)
				}
			}
			if err := k.DeleteSecret("p"); err != nil {
				t.Fatal(err)
			}
			if got := b.Users(ServiceName); len(got) != 0 {
				t.Errorf("after Delete and DeleteSecret, items left: %q", got)
			}
			if _, err := k.Load("p"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Load after Delete: %v, want ErrNotFound", err)
			}
			if err := k.Delete("p"); err != nil {
				t.Errorf("Delete when absent: %v", err)
			}
			if err := k.DeleteSecret("p"); err != nil {
				t.Errorf("DeleteSecret when absent: %v", err)
			}
		})
	}
}

// A writer alternates two big records as fast as it can while readers
// load: every read is one of the two, whole, and no read fails.
func TestConcurrentReadersSeeWholeRecords(t *testing.T) {
	b := &LimitedBackend{Limit: 2560}
	// Spinning readers can starve the writer's calls for seconds when
	// GOMAXPROCS=1; this test is about consistency, not timeouts.
	k := &Keyring{Backend: b, MaxItemSize: WindowsMaxItemSize, Timeout: time.Hour}
	recs := []*Record{sizedRecord(t, 12<<10, 1), sizedRecord(t, 9<<10, 2)}
	if err := k.Save("p", recs[0]); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 400 {
			if err := k.Save("p", recs[(i+1)%2]); err != nil {
				t.Error("Save:", err)
				return
			}
		}
	}()

	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int]int{}
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := k.Load("p")
				if err != nil {
					t.Error("Load:", err)
					return
				}
				which := slices.IndexFunc(recs, func(r *Record) bool { return cmp.Equal(r, got) })
				if which < 0 {
					t.Error("Load returned a record that is neither of the two written")
					return
				}
				mu.Lock()
				seen[which]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("reads by record: %v", seen)
}

func TestDamagedEntries(t *testing.T) {
	secret := token(3000, 5)
	manifestFor := func(t *testing.T, b *LimitedBackend) string {
		v, err := b.Get(ServiceName, "p")
		if err != nil || !strings.HasPrefix(v, manifestPrefix) {
			t.Fatalf("head = %.40q, %v; want a manifest", v, err)
		}
		return v
	}
	chunk0 := func(t *testing.T, b *LimitedBackend) string {
		var m manifest
		if err := json.Unmarshal([]byte(strings.TrimPrefix(manifestFor(t, b), manifestPrefix)), &m); err != nil {
			t.Fatal(err)
		}
		return chunkItem("p", m.Gen, 0)
	}
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, b *LimitedBackend)
	}{
		{"chunk missing", func(t *testing.T, b *LimitedBackend) {
			if err := b.Delete(ServiceName, chunk0(t, b)); err != nil {
				t.Fatal(err)
			}
		}},
		{"chunk altered", func(t *testing.T, b *LimitedBackend) {
			if err := b.Set(ServiceName, chunk0(t, b), "x"); err != nil {
				t.Fatal(err)
			}
		}},
		// The same length and still valid JSON: only the manifest's
		// checksum tells this chunk from the one that was written.
		{"chunk altered, JSON intact", func(t *testing.T, b *LimitedBackend) {
			item := chunk0(t, b)
			v, err := b.Get(ServiceName, item)
			const start = `{"access_token":"`
			if err != nil || !strings.HasPrefix(v, start) || len(v) < len(start)+20 {
				t.Fatalf("chunk 0 = %.40q, %v; want the start of the record's JSON", v, err)
			}
			i := len(start) + 10 // inside the access token
			c := v[i] ^ 0x20     // swap the case of a letter
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				c = 'Q'
			}
			if err := b.Set(ServiceName, item, v[:i]+string(c)+v[i+1:]); err != nil {
				t.Fatal(err)
			}
		}},
		{"manifest malformed", func(t *testing.T, b *LimitedBackend) {
			if err := b.Set(ServiceName, "p", manifestPrefix+"{"); err != nil {
				t.Fatal(err)
			}
		}},
		{"record not JSON", func(t *testing.T, b *LimitedBackend) {
			if err := b.Set(ServiceName, "p", "not json "+secret[:100]); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &LimitedBackend{Limit: 2560}
			k := &Keyring{Backend: b, MaxItemSize: WindowsMaxItemSize}
			r := realisticRecord(1)
			r.RefreshToken = secret
			if err := k.Save("p", r); err != nil {
				t.Fatal(err)
			}
			tc.damage(t, b)
			_, err := k.Load("p")
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Load: %v, want ErrCorrupt", err)
			}
			if strings.Contains(err.Error(), secret[:16]) {
				t.Errorf("error %q quotes the stored secret", err)
			}
			if err := k.Delete("p"); err != nil {
				t.Errorf("Delete of a damaged entry: %v", err)
			}
			if _, err := k.Load("p"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Load after Delete: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestRejectsBadProfileNames(t *testing.T) {
	for _, name := range []string{"", "a:b", "a#b", strings.Repeat("x", maxProfileLen+1)} {
		b := &LimitedBackend{}
		k := &Keyring{Backend: b}
		errs := []error{
			k.Save(name, realisticRecord(1)),
			k.Delete(name),
			k.SaveSecret(name, "s"),
			k.DeleteSecret(name),
		}
		_, err := k.Load(name)
		errs = append(errs, err)
		_, err = k.LoadSecret(name)
		errs = append(errs, err)
		for i, err := range errs {
			if err == nil {
				t.Errorf("profile %.20q: operation %d succeeded", name, i)
			}
		}
		if c := b.Calls(); c != (Calls{}) {
			t.Errorf("profile %.20q: backend called: %+v", name, c)
		}
	}
}

func TestSplitKeepsRunesWhole(t *testing.T) {
	s := strings.Repeat("aé€𝄞", 200)
	parts := split(s, minItemSize)
	if got := strings.Join(parts, ""); got != s {
		t.Fatal("parts do not join back to the value")
	}
	for i, p := range parts {
		if len(p) > minItemSize || !utf8.ValidString(p) {
			t.Errorf("part %d: %d bytes, valid UTF-8 %v", i, len(p), utf8.ValidString(p))
		}
	}
}
