package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

var (
	mdLinkRE    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeadingRE = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
)

// headingAnchors are the anchors GitHub gives a Markdown file's headings:
// lower case, punctuation but - and _ dropped, spaces as -, and -1, -2 …
// after repeats. Headings inside code blocks do not count.
func headingAnchors(md string) map[string]bool {
	var prose strings.Builder
	parts := strings.Split(md, "```")
	for i := 0; i < len(parts); i += 2 {
		prose.WriteString(parts[i] + "\n")
	}
	anchors := map[string]bool{}
	seen := map[string]int{}
	for _, m := range mdHeadingRE.FindAllStringSubmatch(prose.String(), -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			anchors[a] = true
		}
		seen[a]++
	}
	return anchors
}

// TestDocLinksResolve: every link from one document of the repository to
// another, or to a heading, leads somewhere.
func TestDocLinksResolve(t *testing.T) {
	root := filepath.Join("..", "..")
	files := []string{"README.md", "CHANGELOG.md"}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range more {
		files = append(files, filepath.Join("docs", filepath.Base(f)))
	}
	read := func(name string) (string, bool) {
		data, err := os.ReadFile(filepath.Join(root, name))
		return string(data), err == nil
	}
	checked := 0
	for _, f := range files {
		text, _ := read(f)
		for _, m := range mdLinkRE.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			name := f
			if path != "" {
				name = filepath.Join(filepath.Dir(f), path)
			}
			body, ok := read(name)
			if !ok {
				t.Errorf("%s: link to %s: no file %s", f, target, name)
				continue
			}
			if anchor != "" && strings.HasSuffix(name, ".md") && !headingAnchors(body)[anchor] {
				t.Errorf("%s: link to %s: %s has no heading with that anchor", f, target, name)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no links found")
	}
}
