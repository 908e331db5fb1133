package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/servertext"
)

// WriteHead prints an answer's status line and headers (api --include),
// sorted, with any Authorization header redacted. The reason phrase and
// header values are the server's text: cleaned, so that they cannot act
// on a terminal.
func WriteHead(w io.Writer, resp *http.Response) {
	fmt.Fprintf(w, "%s %s\n", servertext.Clean(resp.Proto), servertext.Clean(resp.Status))
	names := make([]string, 0, len(resp.Header))
	for name := range resp.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range resp.Header[name] {
			if strings.EqualFold(name, "Authorization") {
				v = "[redacted]"
			}
			fmt.Fprintf(w, "%s: %s\n", servertext.Clean(name), servertext.Clean(v))
		}
	}
	fmt.Fprintln(w)
}

// maxShownBody is how much of an error answer's body is printed: all of
// any Graph error, the start of a proxy's page.
const maxShownBody = 16 << 10

// WriteErrorBody prints an error answer's body after the error line: for
// a terminal indented and then cleaned, so that nothing in it (an escape
// sequence, a C1 control, a bidi override) acts on it; otherwise as it
// came. A very large body is cut short, saying so.
func WriteErrorBody(w io.Writer, body []byte, terminal bool) {
	body = bytes.TrimRight(body, "\r\n")
	if len(body) == 0 {
		return
	}
	cut := len(body) > maxShownBody
	if cut {
		body = body[:maxShownBody]
	}
	if terminal {
		var b bytes.Buffer
		if !cut && json.Indent(&b, body, "", "  ") == nil {
			body = b.Bytes()
		}
		body = []byte(cleanLines(body))
	}
	w.Write(body)
	fmt.Fprintln(w)
	if cut {
		fmt.Fprintf(w, "[the answer goes on; only its first %d KiB are shown]\n", maxShownBody>>10)
	}
}

// cleanLines is text for a terminal: line breaks stay, every other
// control character, escape sequence and bidi override is neutralised,
// and bytes that are not UTF-8 become U+FFFD.
func cleanLines(b []byte) string {
	return servertext.Lines(strings.ToValidUTF8(string(b), "\ufffd"))
}
