//go:build !linux

package keyringtest

import (
	"errors"
	"os"
)

var errUnsupported = errors.New("the private Secret Service harness runs on Linux only")

// Session is a private Secret Service; on this system none can be started.
type Session struct {
	Dir     string
	Address string
}

// Available reports that the harness cannot run here.
func Available() error { return errUnsupported }

// Start fails: the harness runs on Linux only.
func Start() (*Session, error) { return nil, errUnsupported }

// StartBareBus fails: the harness runs on Linux only.
func StartBareBus() (*Session, error) { return nil, errUnsupported }

// Env returns nothing.
func (s *Session) Env() []string { return nil }

// Setenv does nothing.
func (s *Session) Setenv() error { return nil }

// Lock fails: the harness runs on Linux only.
func (s *Session) Lock() error { return errUnsupported }

// KeyringDaemon returns nil.
func (s *Session) KeyringDaemon() *os.Process { return nil }

// Close does nothing.
func (s *Session) Close() error { return nil }
