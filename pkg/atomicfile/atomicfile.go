// Package atomicfile writes files that hold sensitive data, mode 0600 and
// all or nothing, and reads them back private (lock files are
// pkg/filelock's).
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
)

// WriteFile replaces path with data via a temporary file in the same
// directory, fsynced before the rename, mode 0600; the directory is created
// 0700 when missing. Readers see the old file or the new one, never a mix.
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // persist the rename itself; best effort
		d.Close()
	}
	return nil
}

// ReadPrivate reads a file that WriteFile wrote, first making it 0600
// again when other users can read it (a chmod, or a restore with cp, leaves
// such files 0644): warning says what was found, and whether it was put
// right ("" when the file was private). Where permission bits do not
// decide access (Windows: ACLs), the file is read as it is.
func ReadPrivate(path string) (data []byte, warning string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		was := fi.Mode().Perm()
		if err := f.Chmod(0o600); err != nil {
			warning = fmt.Sprintf("%s is open to other users (mode %04o) and is not yours to change: as its owner, run chmod 600 %s", path, was, path)
		} else {
			warning = fmt.Sprintf("%s was open to other users (mode %04o) and is 0600 again", path, was)
		}
	}
	data, err = io.ReadAll(f)
	return data, warning, err
}
