package manual_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/manual"
)

// docMention is a document of docs/ named in a Go string, with the URL or
// path before it, if any, and the anchor after it.
var docMention = regexp.MustCompile(`(\S*?)docs/([A-Za-z0-9_-]+\.md)(#[a-z0-9-]+)?`)

// TestMessagesNameDocumentsThatExist: every document that the program's
// messages name (in the non-test Go files of pkg and cmd) is named by its
// URL under manual.DocsURL, which every user can open, not by a path that
// exists only in a checkout; and the document exists.
func TestMessagesNameDocumentsThatExist(t *testing.T) {
	root := filepath.Join("..", "..")
	found := 0
	for _, dir := range []string{"pkg", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, line := range strings.Split(string(data), "\n") {
				// Comments may name the repository's files as such.
				if strings.HasPrefix(strings.TrimSpace(line), "//") {
					continue
				}
				for _, m := range docMention.FindAllStringSubmatch(line, -1) {
					found++
					if !strings.HasSuffix(m[1], strings.TrimSuffix(manual.DocsURL, "docs/")) {
						t.Errorf("%s names %s, which a package user does not have; name %s%s", path, m[0], manual.DocsURL, m[2]+m[3])
					}
					doc, err := os.ReadFile(filepath.Join(root, "docs", m[2]))
					if err != nil {
						t.Errorf("%s names %s: %v", path, m[0], err)
					} else if m[3] != "" && !hasAnchor(string(doc), m[3][1:]) {
						t.Errorf("%s names %s: %s has no heading %s", path, m[0], m[2], m[3])
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if found == 0 {
		t.Fatal("no message names a document; is the pattern still right?")
	}
}

// hasAnchor reports whether a heading of the Markdown doc gets the anchor
// GitHub makes of it: lower case, spaces to hyphens, other punctuation
// dropped.
func hasAnchor(doc, anchor string) bool {
	for _, line := range strings.Split(doc, "\n") {
		heading := strings.TrimLeft(line, "#")
		if heading == line || !strings.HasPrefix(heading, " ") {
			continue
		}
		var slug strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
			switch {
			case r == ' ':
				slug.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				slug.WriteRune(r)
			}
		}
		if slug.String() == anchor {
			return true
		}
	}
	return false
}
