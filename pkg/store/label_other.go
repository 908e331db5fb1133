//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package store

import "github.com/zalando/go-keyring"

// setLabelled is go-keyring's Set where there is no Secret Service: the
// macOS keychain shows the service and account names (ms365auth, the
// item), and the Windows credential manager the target "ms365auth:item";
// neither gets a label of ours.
func setLabelled(service, user, secret string) error {
	return keyring.Set(service, user, secret)
}
