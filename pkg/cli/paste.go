package cli

import (
	"context"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

// pasteDialogue is the primary method's dialogue (flow.Paste) on env's
// standard input, spoken through u; onEmpty answers an empty line (the
// sandbox plays the browser).
func pasteDialogue(env *Env, u ui, p *profile.Profile, onEmpty func() (string, error)) flow.Paste {
	return flow.Paste{
		ReadLine:  func(ctx context.Context) (string, error) { return readReturnedURL(ctx, env, p) },
		Out:       u,
		Person:    isTerminal(env.In),
		StartOver: env.commandLine(),
		OnEmpty:   onEmpty,
	}
}

// commandLine is the command this process runs, quoted for a shell, for
// messages that say how to start over. Secrets are never flag values.
func (env *Env) commandLine() string {
	words := []string{"ms365auth"}
	for _, a := range env.args {
		words = append(words, shellQuote(a))
	}
	return strings.Join(words, " ")
}

// commandLineWith is commandLine with flag's value replaced by value (a
// placeholder for what was given wrong), added when it was not given.
func (env *Env) commandLineWith(flag, value string) string {
	words := []string{"ms365auth"}
	found := false
	for i := 0; i < len(env.args); i++ {
		a := env.args[i]
		switch {
		case a == flag && i+1 < len(env.args):
			words, found = append(words, a, value), true
			i++
		case strings.HasPrefix(a, flag+"="):
			words, found = append(words, flag, value), true
		default:
			words = append(words, shellQuote(a))
		}
	}
	if !found {
		words = append(words, flag, value)
	}
	return strings.Join(words, " ")
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=.,/:@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
