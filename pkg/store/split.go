package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ms365auth/ms365auth/pkg/random"
)

// How a value larger than MaxItemSize is kept.
//
// The head item (the profile's item name) is then a manifest: manifestPrefix
// followed by JSON naming a generation (a fresh random id), its number of
// chunks, the SHA-256 of the whole value and the previous generation. Chunk i
// of generation G of head H is item "H#G#i". Chunks are written before the
// head that refers to them and deleted only after no head refers to them, so
// the head write is the single atomic switch: a reader sees either the old
// value or the new one, never a mix, and a Save that fails at any point
// leaves the old head, and with it the old value, readable.
//
// A writer deletes the generation before the previous one, not the previous
// one, so that a reader who read the previous head a moment ago still finds
// its chunks; a reader only misses chunks when two Saves complete during its
// read, and then it re-reads the head (see get). The cost is that a split
// value occupies its chunks twice, the older copy holding the previous
// tokens until the next Save or Delete.
//
// Chunks left unreferenced (a chunk write that timed out and landed late,
// a cleanup delete that failed, two unlocked writers racing) stay until
// someone deletes them by name: go-keyring cannot list items. They never
// affect what a reader sees.
//
// Values that fit are stored directly in the head, so on Linux (no limit) a
// read is one call. JSON records start with '{', never with manifestPrefix; a
// client secret that happens to start with it is always stored split, so a
// head with the prefix is always a manifest.
const manifestPrefix = "ms365auth-split:v1:"

const (
	// minItemSize leaves room for a manifest (about 170 bytes) in the head.
	minItemSize = 256
	// maxChunks bounds a value at maxChunks*MaxItemSize (5 MB on Windows)
	// and a damaged manifest's claims.
	maxChunks = 2000
	// maxReadAttempts bounds re-reading the head while writers keep
	// replacing it under a reader.
	maxReadAttempts = 16
)

type generation struct {
	Gen string `json:"gen"`
	N   int    `json:"n"`
}

type manifest struct {
	generation
	SHA256 string      `json:"sha256"`
	Prev   *generation `json:"prev,omitempty"`
}

// generations lists every generation m keeps alive.
func (m *manifest) generations() []generation {
	if m == nil {
		return nil
	}
	if m.Prev == nil {
		return []generation{m.generation}
	}
	return []generation{m.generation, *m.Prev}
}

func (g generation) valid() bool {
	if g.N < 1 || g.N > maxChunks || g.Gen == "" {
		return false
	}
	_, err := hex.DecodeString(g.Gen)
	return err == nil
}

// parseManifest reports whether head is a manifest and, if it is a
// well-formed one, returns it; (nil, true) means a damaged manifest.
func parseManifest(head string) (*manifest, bool) {
	body, ok := strings.CutPrefix(head, manifestPrefix)
	if !ok {
		return nil, false
	}
	var m manifest
	if json.Unmarshal([]byte(body), &m) != nil || !m.valid() || (m.Prev != nil && !m.Prev.valid()) {
		return nil, true
	}
	return &m, true
}

func chunkItem(head string, gen string, i int) string {
	return fmt.Sprintf("%s#%s#%d", head, gen, i)
}

// errChunkGone means a chunk the head named is missing or the chunks do not
// add up to the recorded hash.
var errChunkGone = errors.New("chunk missing or mismatched")

// get reads the value kept under head.
//
// When the head is a manifest whose chunks are missing or do not match, a
// writer has replaced the value meanwhile, or the entry is damaged: get
// re-reads the head and tries again while the head keeps changing (at most
// maxReadAttempts times), and reports ErrCorrupt once the same head fails
// twice.
func (k *Keyring) get(head string) (string, error) {
	var last string
	for range maxReadAttempts {
		v, err := k.getItem(head)
		if err != nil {
			return "", err
		}
		m, isManifest := parseManifest(v)
		if !isManifest {
			return v, nil
		}
		if m == nil {
			return "", fmt.Errorf("keyring item %q has a malformed manifest: %w", head, ErrCorrupt)
		}
		value, err := k.readChunks(head, m)
		if !errors.Is(err, errChunkGone) {
			return value, err
		}
		if v == last {
			break
		}
		last = v
	}
	return "", fmt.Errorf("keyring item %q is incomplete (a part is missing or altered): %w", head, ErrCorrupt)
}

func (k *Keyring) readChunks(head string, m *manifest) (string, error) {
	var b strings.Builder
	for i := range m.N {
		p, err := k.getItem(chunkItem(head, m.Gen, i))
		if errors.Is(err, ErrNotFound) {
			return "", errChunkGone
		}
		if err != nil {
			return "", err
		}
		b.WriteString(p)
	}
	sum := sha256.Sum256([]byte(b.String()))
	if hex.EncodeToString(sum[:]) != m.SHA256 {
		return "", errChunkGone
	}
	return b.String(), nil
}

// put replaces the value kept under head: one write when the value fits,
// otherwise chunks first, then the manifest head, then the generation that
// no head can refer to any more. Failing to delete that generation does not
// fail the put: the new value is in place, and the leftover items are
// unreferenced.
func (k *Keyring) put(head, value string) error {
	if k.MaxItemSize > 0 && k.MaxItemSize < minItemSize {
		return fmt.Errorf("keyring MaxItemSize %d is below the minimum of %d bytes", k.MaxItemSize, minItemSize)
	}
	old, err := k.currentManifest(head)
	if err != nil {
		return err
	}
	var stale []generation
	if k.fits(value) {
		if err := k.setItem(head, value); err != nil {
			return err
		}
		stale = old.generations()
	} else {
		m, err := k.writeChunks(head, value)
		if err != nil {
			return err
		}
		if old != nil {
			m.Prev = &old.generation
			if old.Prev != nil {
				stale = []generation{*old.Prev}
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if err := k.setItem(head, manifestPrefix+string(b)); err != nil {
			// After a timeout the write may still land and need its
			// chunks; otherwise they are garbage.
			var u *UnavailableError
			if !errors.As(err, &u) || u.Kind != KeyringTimeout {
				_ = k.deleteChunks(head, m.generation)
			}
			return err
		}
	}
	for _, g := range stale {
		_ = k.deleteChunks(head, g)
	}
	return nil
}

// fits reports whether value can be the head itself.
func (k *Keyring) fits(value string) bool {
	return (k.MaxItemSize <= 0 || len(value) <= k.MaxItemSize) && !strings.HasPrefix(value, manifestPrefix)
}

// currentManifest returns the manifest in head, or nil when head is absent,
// holds a direct value, or a manifest too damaged to name its chunks.
func (k *Keyring) currentManifest(head string) (*manifest, error) {
	v, err := k.getItem(head)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, _ := parseManifest(v)
	return m, nil
}

// writeChunks stores value as the chunks of a new generation. On failure it
// deletes what it wrote (including the failed chunk, which may have landed).
func (k *Keyring) writeChunks(head, value string) (*manifest, error) {
	size := k.MaxItemSize
	if size <= 0 {
		size = len(value)
	}
	parts := split(value, size)
	if len(parts) > maxChunks {
		return nil, fmt.Errorf("value for keyring item %q is too large (%d bytes)", head, len(value))
	}
	g := generation{Gen: random.Hex(8), N: len(parts)}
	for i, p := range parts {
		if err := k.setItem(chunkItem(head, g.Gen, i), p); err != nil {
			_ = k.deleteChunks(head, generation{Gen: g.Gen, N: i + 1})
			return nil, err
		}
	}
	sum := sha256.Sum256([]byte(value))
	return &manifest{generation: g, SHA256: hex.EncodeToString(sum[:])}, nil
}

// split cuts s into parts of at most size bytes, moving each cut back to the
// start of a UTF-8 sequence so that every part of valid text stays valid
// text (size is at least minItemSize, so a part is never empty).
func split(s string, size int) []string {
	var parts []string
	for len(s) > size {
		cut := size
		for i := 0; i < utf8.UTFMax-1 && !utf8.RuneStart(s[cut]); i++ {
			cut--
		}
		parts = append(parts, s[:cut])
		s = s[cut:]
	}
	return append(parts, s)
}

// deleteChunks deletes every chunk of g, tolerating absent ones, and returns
// the first other error after trying them all.
func (k *Keyring) deleteChunks(head string, g generation) error {
	var first error
	for i := range g.N {
		err := k.deleteItem(chunkItem(head, g.Gen, i))
		if err != nil && !errors.Is(err, ErrNotFound) && first == nil {
			first = err
		}
	}
	return first
}

// remove deletes head and the chunks it refers to. The head goes first, so
// an interrupted remove leaves "not found" rather than a head naming
// missing chunks.
func (k *Keyring) remove(head string) error {
	v, err := k.getItem(head)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := k.deleteItem(head); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	m, _ := parseManifest(v)
	var first error
	for _, g := range m.generations() {
		if err := k.deleteChunks(head, g); err != nil && first == nil {
			first = err
		}
	}
	return first
}
