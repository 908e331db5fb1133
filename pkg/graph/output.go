package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/itchyny/gojq"
)

// Filter is a compiled --jq expression.
type Filter struct{ code *gojq.Code }

// NewFilter compiles a jq expression (gojq's dialect).
func NewFilter(expr string) (*Filter, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid --jq expression: %w", err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, fmt.Errorf("invalid --jq expression: %w", err)
	}
	return &Filter{code: code}, nil
}

// Write runs the filter on one JSON value and writes each result on a
// line: strings as they are, other values as compact JSON.
func (f *Filter) Write(ctx context.Context, w io.Writer, doc []byte) error {
	var v any
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return fmt.Errorf("--jq: the answer is not JSON: %w", err)
	}
	iter := f.code.RunWithContext(ctx, normalize(v))
	for {
		out, ok := iter.Next()
		if !ok {
			return nil
		}
		if err, ok := out.(error); ok {
			var halt *gojq.HaltError
			if errors.As(err, &halt) && halt.Value() == nil {
				return nil
			}
			return fmt.Errorf("--jq: %w", err)
		}
		if s, ok := out.(string); ok {
			if _, err := fmt.Fprintln(w, s); err != nil {
				return err
			}
			continue
		}
		b, err := gojq.Marshal(out)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
			return err
		}
	}
}

// normalize turns json.Number into the int and float64 gojq works with.
func normalize(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return int(i)
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = normalize(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = normalize(v[k])
		}
	}
	return v
}

// Writer prints answers: the body untouched, or filtered by --jq; pages'
// items as one JSON array or as JSON lines.
type Writer struct {
	Out       io.Writer
	Filter    *Filter // nil: none
	JSONLines bool
	// Terminal says Out is a terminal: what is written is cleaned, so that
	// text an outside sender chose (a meeting subject with OSC 52 or OSC 8)
	// cannot act on it. A pipe or a file gets the bytes as they came.
	Terminal bool

	items int
}

// MaxAnswer is the most of one answer held in memory: a page for
// --paginate, an answer for --jq or for a terminal. A plain answer to a
// pipe or file is streamed, whatever its size.
const MaxAnswer = 64 << 20

// TooLargeError is an answer larger than MaxAnswer where it must be held
// in memory.
type TooLargeError struct {
	URL string
	Fix string
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the answer of %s is larger than %d MiB, more than ms365auth holds in memory: %s", e.URL, MaxAnswer>>20, e.Fix)
}

// readAnswer reads a whole answer, at most MaxAnswer bytes of it.
func readAnswer(body io.Reader, url, fix string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, MaxAnswer+1))
	if err == nil && len(b) > MaxAnswer {
		return nil, &TooLargeError{URL: url, Fix: fix}
	}
	return b, err
}

// Body writes one whole answer, from url.
func (w *Writer) Body(ctx context.Context, body io.Reader, url string) error {
	if w.Filter == nil && !w.Terminal {
		_, err := io.Copy(w.Out, body)
		return err
	}
	fix := "send it to a file or a pipe, which takes it whole"
	if w.Filter != nil {
		fix = "leave out --jq, which streams it, and filter the file with jq"
	}
	b, err := readAnswer(body, url, fix)
	if err != nil {
		return err
	}
	if w.Filter != nil {
		return w.Filter.Write(ctx, w.out(), b)
	}
	_, err = io.WriteString(w.Out, cleanLines(b))
	return err
}

// out is where items and filter results go: cleaned for a terminal.
func (w *Writer) out() io.Writer {
	if w.Terminal {
		return cleanWriter{w.Out}
	}
	return w.Out
}

// cleanWriter cleans each write for a terminal; every write is whole (a
// line of --jq output, an item), so no sequence is split between two.
type cleanWriter struct{ w io.Writer }

func (c cleanWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(c.w, cleanLines(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Item writes one item of a paged collection. With a filter, the filter
// sees each item by itself.
func (w *Writer) Item(ctx context.Context, item json.RawMessage) error {
	defer func() { w.items++ }()
	if w.Filter != nil {
		return w.Filter.Write(ctx, w.out(), item)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, item); err != nil {
		return err
	}
	sep := ",\n"
	switch {
	case w.JSONLines:
		sep = ""
	case w.items == 0:
		sep = "[\n"
	}
	_, err := fmt.Fprintf(w.out(), "%s%s", sep, b.Bytes())
	if err == nil && w.JSONLines {
		_, err = io.WriteString(w.Out, "\n")
	}
	return err
}

// End closes the array of a paged collection.
func (w *Writer) End() error {
	if w.Filter != nil || w.JSONLines {
		return nil
	}
	end := "\n]\n"
	if w.items == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(w.Out, end)
	return err
}

// DefaultMaxPages is how many pages Paginate fetches at most, unless told
// otherwise: a server whose next links never end (empty pages without
// end) would otherwise keep a cron job going for ever.
const DefaultMaxPages = 1000

// Reading is how a run reads its answers (api's --paginate, --jsonl,
// --delta-link, --timeout and --max-pages).
type Reading struct {
	Paginate    bool
	JSONLines   bool
	DeltaLink   bool // a delta query's @odata.deltaLink is to be saved
	IdleTimeout time.Duration
	MaxPages    int
}

// Check says what cannot work in r before anything is sent: one line, with
// what to give instead.
func (r Reading) Check() error {
	switch {
	case r.JSONLines && !r.Paginate:
		return errors.New("--jsonl works with --paginate")
	case r.DeltaLink && !r.Paginate:
		return errors.New("--delta-link works with --paginate")
	case r.IdleTimeout <= 0:
		return errors.New("--timeout must be more than 0, e.g. --timeout 30s")
	case r.MaxPages <= 0:
		return fmt.Errorf("--max-pages must be more than 0, e.g. --max-pages %d", DefaultMaxPages)
	}
	return nil
}

// Paginate sends req and follows @odata.nextLink, handing every item of
// every page's value to w as it arrives (learn.microsoft.com/graph/paging).
// A next link must be on an allowed host like any URL; a relative one is
// taken relative to the page's URL. A page may have no items, and still a
// next link. A next link to a page already fetched (a cycle) is an error,
// and so is a page beyond maxPages (0: DefaultMaxPages). The last page of a
// delta query has an @odata.deltaLink instead of a next link: it is
// returned, checked as a next link is, for the next run to start from. A
// first and only page without a value array is not a collection
// (--paginate on /me): it is written whole.
func (c *Client) Paginate(ctx context.Context, req Request, w *Writer, maxPages int) (deltaLink string, err error) {
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	visited := map[string]bool{}
	for pages := 1; ; pages++ {
		visited[req.URL.String()] = true
		resp, err := c.Do(ctx, req)
		if err != nil {
			return "", err
		}
		body, err := readAnswer(resp.Body, req.URL.Redacted(), "ask for smaller pages, e.g. with $top=100")
		resp.Body.Close()
		var tooLarge *TooLargeError
		if errors.As(err, &tooLarge) {
			return "", err
		}
		if err != nil {
			return "", &ConnectionError{Method: req.Method, URL: req.URL.Redacted(), Err: err}
		}
		var page struct {
			Value     json.RawMessage `json:"value"`
			NextLink  string          `json:"@odata.nextLink"`
			DeltaLink string          `json:"@odata.deltaLink"`
		}
		if !json.Valid(body) {
			return "", fmt.Errorf("--paginate: the answer of %s is not JSON", req.URL.Redacted())
		}
		json.Unmarshal(body, &page) // a JSON value that is not an object has no links
		var items []json.RawMessage
		isCollection := json.Unmarshal(page.Value, &items) == nil
		if pages == 1 && !isCollection && page.NextLink == "" {
			return "", w.Body(ctx, bytes.NewReader(body), req.URL.Redacted())
		}
		for _, item := range items {
			if err := w.Item(ctx, item); err != nil {
				return "", err
			}
		}
		if page.NextLink == "" {
			if page.DeltaLink == "" {
				return "", w.End()
			}
			delta, err := c.link(req, page.DeltaLink, "@odata.deltaLink")
			if err != nil {
				return "", err
			}
			return delta.String(), w.End()
		}
		next, err := c.link(req, page.NextLink, "@odata.nextLink")
		if err != nil {
			return "", err
		}
		if visited[next.String()] {
			return "", fmt.Errorf("--paginate: the @odata.nextLink of %s leads back to %s, a page already fetched: the server's paging goes round in a circle, stopped", req.URL.Redacted(), next.Redacted())
		}
		if pages >= maxPages {
			return "", fmt.Errorf("--paginate: stopped after %d pages, and the server still names a next one; to fetch more, raise the cap: --max-pages %d", maxPages, 10*maxPages)
		}
		req = Request{Method: http.MethodGet, URL: next, Header: req.Header}
	}
}

// link is a next or delta link of req's page: resolved against the page's
// URL, and on a host the token may go to. A link with control characters
// or a line break does not parse.
func (c *Client) link(req Request, link, name string) (*url.URL, error) {
	u, err := req.URL.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("--paginate: the %s of %s is not a valid URL", name, req.URL.Redacted())
	}
	if err := c.Cloud.check(u); err != nil {
		return nil, fmt.Errorf("--paginate: the %s of %s: %w", name, req.URL.Redacted(), err)
	}
	return u, nil
}
