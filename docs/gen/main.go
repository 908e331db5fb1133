// Command gen writes the documentation that is generated from the code, so
// that the two cannot drift apart:
//
//   - docs/troubleshooting.md, from the AADSTS table entra.Codes, the same
//     table the error hints of ms365auth come from, framed by the
//     hand-written sections of troubleshooting.md.tmpl;
//   - docs/man/*.1, one man page per command, from the cobra command tree,
//     with the EXIT STATUS, ENVIRONMENT and FILES tables of pkg/manual;
//   - the same tables in README.md, between its markers.
//
// Run it with `go generate ./...`; a test in this directory fails while
// the committed files differ from what it would write.
package main

//go:generate go run . -docs ..

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	docs := flag.String("docs", "docs", "the docs directory to write into")
	flag.Parse()
	if err := run(*docs); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(docs string) error {
	page, err := troubleshooting()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(docs, "troubleshooting.md"), page, 0o644); err != nil {
		return err
	}
	readmePath := filepath.Join(docs, "..", "README.md")
	current, err := os.ReadFile(readmePath)
	if err != nil {
		return err
	}
	updated, err := readme(current)
	if err != nil {
		return err
	}
	if err := os.WriteFile(readmePath, updated, 0o644); err != nil {
		return err
	}
	pages, err := manPages()
	if err != nil {
		return err
	}
	dir := filepath.Join(docs, "man")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Pages of commands that no longer exist must not linger.
	old, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		return err
	}
	for _, path := range old {
		if _, keep := pages[filepath.Base(path)]; !keep {
			if err := os.Remove(path); err != nil {
				return err
			}
		}
	}
	for name, data := range pages {
		if !strings.HasSuffix(name, ".1") || strings.ContainsRune(name, os.PathSeparator) {
			return fmt.Errorf("unexpected man page name %q", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
