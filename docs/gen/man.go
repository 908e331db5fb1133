package main

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"

	"github.com/ms365auth/ms365auth/pkg/cli"
	"github.com/ms365auth/ms365auth/pkg/manual"
)

// manDate is the date in the pages' headers. It is fixed, not today's,
// so that generating twice gives the same bytes; move it forward when the
// commands change in a release.
var manDate = time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)

// manPages renders one page per available command, keyed by file name
// (ms365auth.1, ms365auth-link.1, ms365auth-completion-bash.1, ...).
func manPages() (map[string][]byte, error) {
	// An environment with nothing set, so that defaults taken from the
	// environment (MS365AUTH_PROFILE) show their built-in values.
	env := cli.DefaultEnv()
	env.Getenv = func(string) string { return "" }
	root := cli.NewRootCmd(env)
	// cobra adds these when a command line runs; the pages should show them.
	root.InitDefaultCompletionCmd()
	root.InitDefaultVersionFlag()

	pages := map[string][]byte{}
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
				if err := walk(sub); err != nil {
					return err
				}
			}
		}
		c.DisableAutoGenTag = true // its footer carries a date
		showNoEmptyListDefaults(c)
		header := &doc.GenManHeader{Date: &manDate, Source: "ms365auth", Manual: "ms365auth manual"}
		var b bytes.Buffer
		if err := doc.GenMan(c, header, &b); err != nil {
			return err
		}
		page := b.Bytes()
		if top := topCommand(c); top != "completion" {
			page = withSections(page, manual.Roff(top))
		}
		pages[strings.ReplaceAll(c.CommandPath(), " ", "-")+".1"] = page
		return nil
	}
	return pages, walk(root)
}

// topCommand names the top-level command c belongs to ("link" for
// "ms365auth link", "store" for "ms365auth store move"); "" for the root.
func topCommand(c *cobra.Command) string {
	for ; c.HasParent(); c = c.Parent() {
		if !c.Parent().HasParent() {
			return c.Name()
		}
	}
	return ""
}

// withSections puts roff sections before SEE ALSO, where man-pages(7)
// has EXIT STATUS, ENVIRONMENT and FILES.
func withSections(page []byte, sections string) []byte {
	at := bytes.Index(page, []byte(".SH SEE ALSO"))
	if at < 0 {
		return append(page, sections...)
	}
	return slices.Concat(page[:at], []byte(sections+"\n\n"), page[at:])
}

// showNoEmptyListDefaults writes a list flag without a default as
// --scopes=SCOPES: cobra would write --scopes=[], which reads as a default.
func showNoEmptyListDefaults(c *cobra.Command) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if f.DefValue == "[]" {
			f.DefValue = "*" + strings.ToUpper(f.Name) + "*"
		}
	})
}
