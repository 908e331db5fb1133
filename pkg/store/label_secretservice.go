//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package store

import (
	ss "github.com/zalando/go-keyring/secret_service"
)

// setLabelled writes an item as go-keyring's Set does (same attributes,
// same collection, replacing an item with the same attributes), but under
// itemLabel: go-keyring offers no way to choose the label.
func setLabelled(service, user, secret string) error {
	svc, err := ss.NewSecretService()
	if err != nil {
		return err
	}
	session, err := svc.OpenSession()
	if err != nil {
		return err
	}
	defer svc.Close(session)
	collection := svc.GetLoginCollection()
	if err := svc.Unlock(collection.Path()); err != nil {
		return err
	}
	attributes := map[string]string{"service": service, "username": user}
	return svc.CreateItem(collection, itemLabel(service, user), attributes, ss.NewSecret(session.Path(), secret))
}
