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

// TestNoCitationsOfOutsideDocuments: code, tests and docs cite Microsoft's
// documentation or explain in place, never the project's working notes
// (its fact sheet on Entra, its first brief), which are not in the
// repository. Go fuzzing's seed corpus is another thing.
func TestNoCitationsOfOutsideDocuments(t *testing.T) {
	seedRE := regexp.MustCompile(`(?i)\bthe seed('s)?\b( corpus)?`)
	err := filepath.WalkDir(filepath.Join("..", ".."), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == "fuzz" {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".go" && ext != ".md" && ext != ".txtar" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(data), "\n") {
			cites := strings.Contains(line, "entra-facts")
			for _, m := range seedRE.FindAllStringSubmatch(line, -1) {
				cites = cites || m[2] == ""
			}
			if cites && !strings.Contains(line, `"entra-facts"`) && !strings.Contains(line, "seedRE :=") {
				t.Errorf("%s:%d cites a document outside the repository: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
