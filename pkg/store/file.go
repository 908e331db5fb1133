package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/ms365auth/ms365auth/pkg/atomicfile"
	"github.com/ms365auth/ms365auth/pkg/statedir"
)

// Environment variables the file store reads its passphrase from.
const (
	EnvPassphrase     = "MS365AUTH_STORE_PASSPHRASE"
	EnvPassphraseFile = "MS365AUTH_STORE_PASSPHRASE_FILE"
)

// DefaultWorkFactor is the scrypt work factor (log2 N) of files the file
// store encrypts. Every `token` call decrypts the record once, so this cost
// is on the hot path. Measured on the 2-core build machine
// (BenchmarkFileLoad): 14 takes about 30 ms, 15 about 55 ms, 16 about
// 150 ms and age's default, 18, 0.5–0.8 s; a whole `token` run is about
// 70 ms at 15 against 4 ms in plain text. The price of 15 over 18 is that
// each guess at the passphrase costs an attacker who copied the files 8
// times less; a passphrase of four random words or twelve random
// characters stays out of reach of offline guessing either way, and is
// what a machine's token store should use. Nothing is cached between runs.
const DefaultWorkFactor = 15

// File is a Store in files, for machines without a usable keyring (cron,
// SSH, headless servers, containers). It is only ever used when chosen
// (link --store file, MS365AUTH_STORE=file), never as a fallback.
//
// Layout: Dir (0700, by default $XDG_STATE_HOME/ms365auth/store) holds for
// profile P the file "P.record", the record as JSON, and for a
// confidential app "P.client-secret", {"client_secret": "..."}; both 0600
// and replaced atomically (pkg/atomicfile: temporary file, fsync, rename,
// directory fsync), so a crash leaves the old file or the new one.
//
// With a Passphrase each file is instead an age file encrypted to an scrypt
// recipient (filippo.io/age; work factor WorkFactor), so no token is ever
// written in plain text. Files say what they are: an encrypted one starts
// with age's header line, a plain one with '{'. A plain file is still read
// when a passphrase is set (it is encrypted on its next write); an
// encrypted one without the passphrase, or with a wrong one, is an error
// naming the variables to set.
type File struct {
	Dir        string
	Passphrase string // "" stores in plain text
	// PassphraseFrom names where the passphrase came from, for messages.
	PassphraseFrom string
	WorkFactor     int // scrypt log2 N for new files; 0 means DefaultWorkFactor
	// Warn, when set, hears of store files found open to other users as
	// they were read (see private).
	Warn func(message string)
}

// NewFile returns the file store of the environment getenv reads: the
// directory FileDir and the passphrase from MS365AUTH_STORE_PASSPHRASE or
// the file MS365AUTH_STORE_PASSPHRASE_FILE names (its first line), or none.
// Setting both is an error, as is an empty passphrase file.
func NewFile(getenv func(string) string) (*File, error) {
	dir, err := FileDir(getenv)
	if err != nil {
		return nil, err
	}
	f := &File{Dir: dir}
	pass, passFile := getenv(EnvPassphrase), getenv(EnvPassphraseFile)
	switch {
	case pass != "" && passFile != "":
		return nil, fmt.Errorf("both %s and %s are set: set only one", EnvPassphrase, EnvPassphraseFile)
	case pass != "":
		f.Passphrase, f.PassphraseFrom = pass, EnvPassphrase
	case passFile != "":
		data, err := os.ReadFile(passFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read the file store passphrase (%s): %w", EnvPassphraseFile, err)
		}
		line, _, _ := strings.Cut(string(data), "\n")
		if line = strings.TrimSuffix(line, "\r"); line == "" {
			return nil, fmt.Errorf("the passphrase file %s (%s) is empty", passFile, EnvPassphraseFile)
		}
		f.Passphrase, f.PassphraseFrom = line, "the file "+passFile+" ("+EnvPassphraseFile+")"
	}
	return f, nil
}

// FileDir is where the file store keeps its files: the store directory
// under statedir.Dir, by default ~/.local/state/ms365auth/store.
func FileDir(getenv func(string) string) (string, error) {
	dir, err := statedir.Dir(getenv)
	if err != nil {
		return "", fmt.Errorf("cannot find a place for the file store: %w", err)
	}
	return filepath.Join(dir, "store"), nil
}

// Name reports "file".
func (f *File) Name() string { return "file" }

// Encrypted reports whether new files are encrypted.
func (f *File) Encrypted() bool { return f.Passphrase != "" }

// RecordEncrypted reports whether the record of profile is encrypted on
// disk, without decrypting it; ErrNotFound when there is none. A plain
// record stays plain until its next write, even with a passphrase set.
func (f *File) RecordEncrypted(profile string) (bool, error) {
	path, err := f.path(profile, recordSuffix)
	if err != nil {
		return false, err
	}
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("cannot read the file store: %w", err)
	}
	defer file.Close()
	head := make([]byte, len(ageHeader))
	n, _ := io.ReadFull(file, head)
	return string(head[:n]) == ageHeader, nil
}

// Load reads the record of profile; ErrNotFound when there is none,
// ErrCorrupt when it cannot be decoded.
func (f *File) Load(profile string) (*Record, error) {
	data, err := f.read(profile, recordSuffix)
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("the record of profile %q in the file store is not valid JSON: %w", profile, ErrCorrupt)
	}
	return &r, nil
}

// Save replaces the record of profile, all or nothing.
func (f *File) Save(profile string, r *Record) error {
	if r == nil {
		return errors.New("no record to save")
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("could not encode the record of profile %q: %w", profile, err)
	}
	return f.write(profile, recordSuffix, data)
}

// Delete removes the record of profile; nothing stored is not an error.
func (f *File) Delete(profile string) error { return f.remove(profile, recordSuffix) }

type secretFile struct {
	ClientSecret string `json:"client_secret"`
}

// LoadSecret reads the client secret of profile; ErrNotFound when none.
func (f *File) LoadSecret(profile string) (string, error) {
	data, err := f.read(profile, secretSuffix)
	if err != nil {
		return "", err
	}
	var s secretFile
	if err := json.Unmarshal(data, &s); err != nil || s.ClientSecret == "" {
		return "", fmt.Errorf("the client secret of profile %q in the file store cannot be read: %w", profile, ErrCorrupt)
	}
	return s.ClientSecret, nil
}

// SaveSecret replaces the client secret of profile.
func (f *File) SaveSecret(profile, secret string) error {
	if secret == "" {
		return errors.New("the client secret is empty")
	}
	data, err := json.Marshal(secretFile{ClientSecret: secret})
	if err != nil {
		return err
	}
	return f.write(profile, secretSuffix, data)
}

// DeleteSecret removes the client secret of profile; none is not an error.
func (f *File) DeleteSecret(profile string) error { return f.remove(profile, secretSuffix) }

// Probe checks, before anyone signs in, that the directory can be created
// and written: it creates a temporary file there and removes it.
func (f *File) Probe() error {
	if err := f.ensureDir(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(f.Dir, ".probe-*.tmp")
	if err != nil {
		return fmt.Errorf("the file store %s is not writable: %w", f.Dir, err)
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

const (
	recordSuffix = ".record"
	secretSuffix = ".client-secret"
	// ageHeader starts every age file (its version line).
	ageHeader = "age-encryption.org/"
	// staleTemp is the age after which a temporary file left by a writer
	// that was killed mid-write is removed; writers take milliseconds.
	staleTemp = time.Minute
)

// ErrPassphrase means the file store holds an encrypted file and the
// passphrase is missing or wrong (errors.Is); the error itself says which.
var ErrPassphrase = errors.New("the file store passphrase is missing or wrong")

type passphraseError string

func (e passphraseError) Error() string        { return string(e) }
func (e passphraseError) Is(target error) bool { return target == ErrPassphrase }

func (f *File) path(profile, suffix string) (string, error) {
	if err := checkProfile(profile); err != nil {
		return "", err
	}
	if strings.ContainsAny(profile, `/\`) || profile == "." || profile == ".." {
		return "", fmt.Errorf("invalid profile name %q", profile)
	}
	return filepath.Join(f.Dir, profile+suffix), nil
}

func (f *File) read(profile, suffix string) ([]byte, error) {
	path, err := f.path(profile, suffix)
	if err != nil {
		return nil, err
	}
	data, err := f.readPrivate(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the file store: %w", err)
	}
	if !bytes.HasPrefix(data, []byte(ageHeader)) {
		return data, nil
	}
	return f.decrypt(path, data)
}

// readPrivate reads a store file, first making it and the directory
// private again when they are open to other users: a chmod, or a restore
// with cp, leaves them 0644, and nothing else would notice until the next
// write.
func (f *File) readPrivate(path string) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, err
	}
	dir, err := os.Stat(f.Dir)
	if err != nil {
		return nil, err
	}
	// Tokens in a directory or file that another user owns may be theirs,
	// planted through a parent directory they own: never use them.
	for _, c := range []struct {
		path string
		fi   fs.FileInfo
	}{{f.Dir, dir}, {path, fi}} {
		if uid, foreign := foreignOwner(c.fi); foreign {
			return nil, &ForeignOwnerError{Path: c.path, Owner: uid, Dir: f.Dir}
		}
	}
	f.private(path, fi, 0o600, file.Chmod)
	f.private(f.Dir, dir, 0o700, func(mode fs.FileMode) error { return os.Chmod(f.Dir, mode) })
	return io.ReadAll(file)
}

// ForeignOwnerError is a store directory or file that belongs to another
// user than this one (or root): its tokens are not read.
type ForeignOwnerError struct {
	Path  string
	Owner int // user ID
	Dir   string
}

func (e *ForeignOwnerError) Error() string {
	return fmt.Sprintf("%s belongs to another user (ID %d), so its tokens are not used: whoever owns it may have put them there. "+
		"If it is yours, make it yours again as root: chown -R %d %s; otherwise remove it, then link again with --store file",
		e.Path, e.Owner, os.Getuid(), e.Dir)
}

// private applies mode to a store file or directory that other users can
// enter, when it is ours, and tells Warn either way: whoever could read it
// may have copied the tokens.
func (f *File) private(path string, fi fs.FileInfo, mode fs.FileMode, chmod func(fs.FileMode) error) {
	open, mine := access(fi)
	if !open {
		return
	}
	was := fi.Mode().Perm()
	if mine && chmod(mode) == nil {
		f.warn("%s was open to other users (mode %04o) and is %04o again; if anyone else could read it, treat the tokens as leaked (see https://github.com/ms365auth/ms365auth/blob/main/docs/security.md#the-file-store)", path, was, mode)
		return
	}
	f.warn("%s is open to other users (mode %04o) and is not yours to change: as its owner, run chmod %o %s", path, was, mode, path)
}

func (f *File) warn(format string, args ...any) {
	if f.Warn != nil {
		f.Warn(fmt.Sprintf(format, args...))
	}
}

// OpenToOthers lists the store's directory and the files of profile that
// users other than their owner can enter, with their modes; it changes
// nothing (doctor reports them).
func (f *File) OpenToOthers(profile string) []string {
	paths := []string{f.Dir}
	for _, suffix := range []string{recordSuffix, secretSuffix} {
		if p, err := f.path(profile, suffix); err == nil {
			paths = append(paths, p)
		}
	}
	var out []string
	for _, p := range paths {
		if fi, err := os.Lstat(p); err == nil {
			if open, _ := access(fi); open {
				out = append(out, fmt.Sprintf("%s (mode %04o)", p, fi.Mode().Perm()))
			}
		}
	}
	return out
}

func (f *File) decrypt(path string, data []byte) ([]byte, error) {
	if f.Passphrase == "" {
		return nil, passphraseError(fmt.Sprintf("%s is encrypted: set %s to its passphrase, or %s to a file holding it",
			path, EnvPassphrase, EnvPassphraseFile))
	}
	id, err := age.NewScryptIdentity(f.Passphrase)
	if err != nil {
		return nil, err
	}
	r, err := age.Decrypt(bytes.NewReader(data), id)
	if errors.Is(err, age.ErrIncorrectIdentity) {
		return nil, passphraseError(fmt.Sprintf("wrong passphrase: the one from %s does not decrypt %s", f.PassphraseFrom, path))
	}
	// age's messages may quote the file's bytes; they stay out of ours.
	if err != nil {
		return nil, fmt.Errorf("%s is not a readable age file: %w", path, ErrCorrupt)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s fails its integrity check: %w", path, ErrCorrupt)
	}
	return plain, nil
}

func (f *File) encrypt(plain []byte) ([]byte, error) {
	rcpt, err := age.NewScryptRecipient(f.Passphrase)
	if err != nil {
		return nil, err
	}
	wf := f.WorkFactor
	if wf == 0 {
		wf = DefaultWorkFactor
	}
	rcpt.SetWorkFactor(wf)
	var b bytes.Buffer
	w, err := age.Encrypt(&b, rcpt)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// write encrypts data when there is a passphrase, before anything touches
// the disk, then replaces the file atomically.
func (f *File) write(profile, suffix string, data []byte) error {
	path, err := f.path(profile, suffix)
	if err != nil {
		return err
	}
	if f.Passphrase != "" {
		if data, err = f.encrypt(data); err != nil {
			return fmt.Errorf("could not encrypt for the file store: %w", err)
		}
	}
	if err := f.ensureDir(); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data); err != nil {
		return err
	}
	f.sweep(path)
	return nil
}

// ensureDir creates the directory 0700, and makes an existing one 0700:
// the files are 0600, but their names say which profiles exist.
func (f *File) ensureDir() error {
	if f.Dir == "" {
		return errors.New("the file store has no directory")
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the file store directory: %w", err)
	}
	if err := os.Chmod(f.Dir, 0o700); err != nil {
		return fmt.Errorf("cannot make the file store directory private: %w", err)
	}
	return nil
}

func (f *File) remove(profile, suffix string) error {
	path, err := f.path(profile, suffix)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot remove from the file store: %w", err)
	}
	f.sweep(path)
	syncDir(f.Dir)
	return nil
}

// sweep removes temporary files of path that a killed writer left behind
// (atomicfile names them ".NAME.*.tmp"), once they are older than any
// write in progress could be. They may hold tokens.
func (f *File) sweep(path string) {
	pattern := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	matches, _ := filepath.Glob(pattern)
	for _, m := range matches {
		if fi, err := os.Lstat(m); err == nil && time.Since(fi.ModTime()) > staleTemp {
			os.Remove(m)
		}
	}
}

// syncDir persists a removal; best effort, as in atomicfile.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
