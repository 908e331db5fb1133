package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"text/template"

	"github.com/ms365auth/ms365auth/pkg/entra"
)

//go:embed troubleshooting.md.tmpl
var troubleshootingTmpl string

// codeDoc is one AADSTS code as the page shows it; every text field is
// Markdown, ready to print.
type codeDoc struct {
	Code       int
	ErrorValue string // the usual OAuth error value, "" when unknown
	Meaning    string
	Fix        string
	MethodFix  []methodFix // where a sign-in method gets another fix
}

type methodFix struct {
	Flag string // the flag that selects the method
	Fix  string
}

// methodFlags are the sign-in methods Hint knows, with the flag that
// selects each.
var methodFlags = []struct{ method, flag string }{
	{"paste", "the primary method"},
	{"alt", "--alt"},
	{"device", "--device"},
}

// placeholders are the words the tool fills in at run time; the page shows
// them as placeholders in angle brackets.
var placeholders = strings.NewReplacer(
	"{redirect_uri}", "\x00redirect URI\x01",
	"{tenant}", "\x00tenant\x01",
	"{client_id}", "\x00client ID\x01",
)

// troubleshooting renders docs/troubleshooting.md.
func troubleshooting() ([]byte, error) {
	var codes []codeDoc
	for _, info := range entra.Codes {
		fix, err := markdown(info.Fix)
		if err != nil {
			return nil, fmt.Errorf("AADSTS%d: %w", info.Code, err)
		}
		meaning, err := markdown(info.Meaning)
		if err != nil {
			return nil, fmt.Errorf("AADSTS%d: %w", info.Code, err)
		}
		d := codeDoc{Code: info.Code, ErrorValue: info.Error, Meaning: meaning, Fix: fix}
		// Hint fills placeholders with neutral words; with the same
		// neutral words on both sides, a difference means the method
		// overrides the table's fix.
		general := entra.Hint(info.Code, entra.HintContext{})
		for _, m := range methodFlags {
			own := entra.Hint(info.Code, entra.HintContext{Method: m.method})
			if own == general {
				continue
			}
			text, err := markdown(own)
			if err != nil {
				return nil, fmt.Errorf("AADSTS%d (%s): %w", info.Code, m.method, err)
			}
			d.MethodFix = append(d.MethodFix, methodFix{Flag: m.flag, Fix: text})
		}
		codes = append(codes, d)
	}
	t, err := template.New("troubleshooting").Funcs(template.FuncMap{
		"cell":   func(s string) string { return strings.ReplaceAll(s, "|", `\|`) },
		"code":   func(n int) string { return "AADSTS" + strconv.Itoa(n) },
		"anchor": func(n int) string { return "aadsts" + strconv.Itoa(n) },
	}).Parse(troubleshootingTmpl)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, struct{ Codes []codeDoc }{codes}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// markdown turns a sentence of the table into Markdown: placeholders become
// `<redirect URI>` and the like, and outside code spans '<' and '>' are
// escaped so that "--tenant <your tenant ID>" is not taken for HTML. A
// placeholder inside a code span cannot be shown and is an error.
func markdown(s string) (string, error) {
	s = placeholders.Replace(s)
	var b strings.Builder
	inCode := false
	for _, r := range s {
		switch {
		case r == '`':
			inCode = !inCode
			b.WriteRune(r)
		case r == '\x00' || r == '\x01':
			if inCode {
				return "", fmt.Errorf("a placeholder inside a code span: %q", s)
			}
			if r == '\x00' {
				b.WriteString("`<")
			} else {
				b.WriteString(">`")
			}
		case !inCode && r == '<':
			b.WriteString("&lt;")
		case !inCode && r == '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	if inCode {
		return "", fmt.Errorf("an unclosed code span: %q", s)
	}
	out := b.String()
	// Some fixes start lower-case, ready to follow "fix: " in a message;
	// on the page each is a sentence.
	if len(out) > 0 && 'a' <= out[0] && out[0] <= 'z' {
		out = strings.ToUpper(out[:1]) + out[1:]
	}
	return out, nil
}
