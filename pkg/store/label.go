package store

import "strings"

// itemLabel is what a keyring that shows labels (the Secret Service:
// Seahorse, KeePassXC, secret-tool) shows for an item: what it holds and
// for which profile, rather than go-keyring's "Password for 'P' on
// 'ms365auth'". Items are found by their attributes, never by label, so
// items stored under the old label stay readable and take the new one
// when next written.
func itemLabel(service, item string) string {
	name, part, chunked := strings.Cut(item, "#")
	what := "tokens"
	if profile, ok := strings.CutSuffix(name, ":client-secret"); ok {
		name, what = profile, "client secret"
	}
	label := service + " " + what + " for profile " + name
	if chunked {
		label += " (part " + part[strings.LastIndex(part, "#")+1:] + ")"
	}
	return label
}
