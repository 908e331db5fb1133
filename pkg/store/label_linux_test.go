//go:build linux

package store

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/ms365auth/ms365auth/pkg/internal/keyringtest"
)

// secretToolItems maps the username attribute of each of the service's
// items to its labels, as secret-tool, a client nobody here wrote, sees
// them. It prints each item's label on stdout and its attributes on
// stderr, in the same order.
func secretToolItems(t *testing.T) map[string][]string {
	t.Helper()
	out, attrs := secretTool(t, "", "search", "--all", "service", ServiceName)
	var labels, users []string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "label = "); ok {
			labels = append(labels, v)
		}
	}
	for _, line := range strings.Split(attrs, "\n") {
		if v, ok := strings.CutPrefix(line, "attribute.username = "); ok {
			users = append(users, v)
		}
	}
	if len(labels) != len(users) {
		t.Fatalf("secret-tool showed %d labels for %d items", len(labels), len(users))
	}
	items := map[string][]string{}
	for i, user := range users {
		items[user] = append(items[user], labels[i])
	}
	return items
}

// TestRealItemLabels: items are labelled for what they hold; an item
// stored before, under go-keyring's label, is still read, and takes the new
// label, not a second item, when next written.
func TestRealItemLabels(t *testing.T) {
	keyringtest.Require(t)
	k := NewKeyring()
	t.Cleanup(func() { k.Delete("labels"); k.DeleteSecret("labels"); k.Delete("labels-split") })

	old, err := json.Marshal(realisticRecord(31))
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.Set(ServiceName, "labels", string(old)); err != nil {
		t.Fatal(err)
	}
	if got := secretToolItems(t)["labels"]; !slices.Equal(got, []string{"Password for 'labels' on 'ms365auth'"}) {
		t.Fatalf("the item stored the old way is labelled %q", got)
	}
	if _, err := k.Load("labels"); err != nil {
		t.Fatalf("an item stored under the old label cannot be read: %v", err)
	}

	if err := k.Save("labels", realisticRecord(32)); err != nil {
		t.Fatal(err)
	}
	if err := k.SaveSecret("labels", "abc8Q~Fake.Client_Secret-Value.0123456789"); err != nil {
		t.Fatal(err)
	}
	split := NewKeyring()
	split.MaxItemSize = WindowsMaxItemSize
	if err := split.Save("labels-split", realisticRecord(33)); err != nil {
		t.Fatal(err)
	}
	items := secretToolItems(t)
	for user, want := range map[string]string{
		"labels":               "ms365auth tokens for profile labels",
		"labels:client-secret": "ms365auth client secret for profile labels",
		"labels-split":         "ms365auth tokens for profile labels-split",
	} {
		if got := items[user]; !slices.Equal(got, []string{want}) {
			t.Errorf("item %s: labels %q, want just %q", user, got, want)
		}
	}
	parts := 0
	for user, labels := range items {
		if strings.HasPrefix(user, "labels-split#") {
			parts++
			if len(labels) != 1 || !strings.HasPrefix(labels[0], "ms365auth tokens for profile labels-split (part ") {
				t.Errorf("chunk %s is labelled %q", user, labels)
			}
		}
	}
	if parts < 2 {
		t.Errorf("the split record has %d labelled chunks, want several", parts)
	}
	if _, err := k.Load("labels"); err != nil {
		t.Errorf("the relabelled record cannot be read: %v", err)
	}
	if err := k.Delete("labels"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Load("labels"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Delete: %v, want ErrNotFound", err)
	}
}
