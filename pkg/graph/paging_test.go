package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// pager serves pages by the page query parameter, counting requests.
func pager(t *testing.T, pages func(srvURL, page string) string) (*Client, Request, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, pages(srv.URL, r.URL.Query().Get("page")))
	}))
	srv.Start()
	t.Cleanup(srv.Close)
	cloud, _ := CloudFor("", srv.URL)
	c := &Client{Cloud: cloud, Log: io.Discard, Token: func(context.Context, bool) (string, error) { return "t", nil }}
	u, _ := cloud.Resolve("/items?page=a", "v1.0")
	return c, Request{Method: "GET", URL: u}, &hits
}

// TestPaginateStopsOnACycle: A -> B -> A paged for ever (451 requests in
// 20 s); now the second visit of A is an error, after 2 requests.
func TestPaginateStopsOnACycle(t *testing.T) {
	c, req, hits := pager(t, func(srvURL, page string) string {
		next := map[string]string{"a": "b", "b": "a"}[page]
		return fmt.Sprintf(`{"value":[{"p":%q}],"@odata.nextLink":%q}`, page, srvURL+"/v1.0/items?page="+next)
	})
	var out bytes.Buffer
	_, err := c.Paginate(context.Background(), req, &Writer{Out: &out, JSONLines: true}, 0)
	if err == nil || !strings.Contains(err.Error(), "already fetched") {
		t.Fatalf("A -> B -> A: %v", err)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// TestPaginateStopsAtMaxPages: empty pages that always name a next one
// (334 requests with no output) stop at the cap, which the error names
// with the flag that raises it.
func TestPaginateStopsAtMaxPages(t *testing.T) {
	c, req, hits := pager(t, func(srvURL, page string) string {
		return fmt.Sprintf(`{"value":[],"@odata.nextLink":%q}`, srvURL+"/v1.0/items?page="+page+"x")
	})
	_, err := c.Paginate(context.Background(), req, &Writer{Out: io.Discard}, 5)
	if err == nil || !strings.Contains(err.Error(), "stopped after 5 pages") || !strings.Contains(err.Error(), "--max-pages 50") {
		t.Fatalf("endless empty pages: %v", err)
	}
	if n := hits.Load(); n != 5 {
		t.Errorf("%d requests, want 5", n)
	}
}

// TestPaginateChecksTheDeltaLink: --delta-link FILE saved whatever the
// server sent (ESC and a line break went through); only a URL on an
// allowed host is returned now.
func TestPaginateChecksTheDeltaLink(t *testing.T) {
	for _, tc := range []struct{ link, want string }{
		{"https://evil.example/v1.0/delta?token=x", "refusing"},
		{"/v1.0/delta?token=x\u001b]52;c;ZXZpbA==\u0007", "not a valid URL"},
		{"/v1.0/delta?token=x\nrm -rf ~", "not a valid URL"},
	} {
		c, req, _ := pager(t, func(string, string) string {
			link, _ := json.Marshal(tc.link)
			return fmt.Sprintf(`{"value":[],"@odata.deltaLink":%s}`, link)
		})
		link, err := c.Paginate(context.Background(), req, &Writer{Out: io.Discard}, 0)
		if err == nil || link != "" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: link %q, error %v; want an error naming %q", tc.link, link, err, tc.want)
		}
	}
	c, req, _ := pager(t, func(string, string) string {
		return `{"value":[],"@odata.deltaLink":"/v1.0/items/delta?$deltatoken=abc"}`
	})
	link, err := c.Paginate(context.Background(), req, &Writer{Out: io.Discard}, 0)
	if err != nil || !strings.HasPrefix(link, c.Cloud.Graph+"/v1.0/items/delta?") {
		t.Errorf("a good delta link: %q, %v", link, err)
	}
}

// TestAnswersHeldInMemoryAreCapped: a page, or an answer for --jq or a
// terminal, larger than MaxAnswer is an error; a plain answer to a pipe
// is streamed whole.
func TestAnswersHeldInMemoryAreCapped(t *testing.T) {
	huge := func() io.Reader {
		return io.MultiReader(strings.NewReader(`{"value":[{"x":"`), io.LimitReader(zeros{}, MaxAnswer), strings.NewReader(`"}]}`))
	}
	jq, _ := NewFilter(".")
	for name, w := range map[string]*Writer{"--jq": {Out: io.Discard, Filter: jq}, "terminal": {Out: io.Discard, Terminal: true}} {
		var tooLarge *TooLargeError
		if err := w.Body(context.Background(), huge(), "https://graph.example/x"); !errors.As(err, &tooLarge) {
			t.Errorf("%s: %v, want a TooLargeError", name, err)
		}
	}
	var n countWriter
	if err := (&Writer{Out: &n}).Body(context.Background(), huge(), "https://graph.example/x"); err != nil || n < MaxAnswer {
		t.Errorf("streamed: %d bytes, %v", n, err)
	}
	srvHuge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(w, huge()) }))
	defer srvHuge.Close()
	cloud, _ := CloudFor("", srvHuge.URL)
	c := &Client{Cloud: cloud, Log: io.Discard, Token: func(context.Context, bool) (string, error) { return "t", nil }}
	u, _ := cloud.Resolve("/items", "v1.0")
	_, err := c.Paginate(context.Background(), Request{Method: "GET", URL: u}, &Writer{Out: io.Discard}, 0)
	var tooLarge *TooLargeError
	if !errors.As(err, &tooLarge) || !strings.Contains(err.Error(), "$top") {
		t.Errorf("a huge page: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// TestTerminalOutputIsCleaned: mail and calendar text chosen by an outside
// sender (a subject with OSC 52 or OSC 8) is neutralised on a terminal and
// kept byte for byte for a pipe or file.
func TestTerminalOutputIsCleaned(t *testing.T) {
	item := []byte(`{"subject":"Lunch \u001b]52;c;ZXZpbA==\u0007 \u001b]8;;https://evil.example\u0007here\u001b]8;;\u0007"}`)
	jq, _ := NewFilter(".subject")
	for _, terminal := range []bool{true, false} {
		var out bytes.Buffer
		w := &Writer{Out: &out, Filter: jq, Terminal: terminal}
		if err := w.Item(context.Background(), item); err != nil {
			t.Fatal(err)
		}
		raw := strings.Contains(out.String(), "\x1b]52;")
		if raw == terminal {
			t.Errorf("terminal %t: %q", terminal, out.String())
		}
		var body bytes.Buffer
		w = &Writer{Out: &body, Terminal: terminal}
		in := "{\"a\":\"\x1b[2J\"}\n"
		if err := w.Body(context.Background(), strings.NewReader(in), "u"); err != nil {
			t.Fatal(err)
		}
		if (body.String() == in) == terminal || strings.Count(body.String(), "\n") != 1 {
			t.Errorf("body, terminal %t: %q", terminal, body.String())
		}
	}
}

// TestReadingCheck: what api refuses before sending anything.
func TestReadingCheck(t *testing.T) {
	ok := Reading{IdleTimeout: time.Minute, MaxPages: 1}
	for _, c := range []struct {
		change func(r *Reading)
		want   string
	}{
		{func(r *Reading) {}, ""},
		{func(r *Reading) { r.Paginate, r.JSONLines, r.DeltaLink = true, true, true }, ""},
		{func(r *Reading) { r.JSONLines = true }, "--jsonl works with --paginate"},
		{func(r *Reading) { r.DeltaLink = true }, "--delta-link works with --paginate"},
		{func(r *Reading) { r.IdleTimeout = 0 }, "--timeout must be more than 0, e.g. --timeout 30s"},
		{func(r *Reading) { r.MaxPages = -1 }, "--max-pages must be more than 0, e.g. --max-pages 1000"},
	} {
		r := ok
		c.change(&r)
		err := r.Check()
		if got := fmt.Sprint(err); (c.want == "" && err != nil) || (c.want != "" && got != c.want) {
			t.Errorf("%+v: %v, want %q", r, err, c.want)
		}
	}
}
