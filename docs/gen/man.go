package main

import (
	"bytes"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/ms365auth/ms365auth/pkg/cli"
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
		header := &doc.GenManHeader{Date: &manDate, Source: "ms365auth", Manual: "ms365auth manual"}
		var b bytes.Buffer
		if err := doc.GenMan(c, header, &b); err != nil {
			return err
		}
		pages[strings.ReplaceAll(c.CommandPath(), " ", "-")+".1"] = b.Bytes()
		return nil
	}
	return pages, walk(root)
}
