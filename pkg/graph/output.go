package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

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

	items int
}

// Body writes one whole answer.
func (w *Writer) Body(ctx context.Context, body io.Reader) error {
	if w.Filter == nil {
		_, err := io.Copy(w.Out, body)
		return err
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	return w.Filter.Write(ctx, w.Out, b)
}

// Item writes one item of a paged collection. With a filter, the filter
// sees each item by itself.
func (w *Writer) Item(ctx context.Context, item json.RawMessage) error {
	defer func() { w.items++ }()
	if w.Filter != nil {
		return w.Filter.Write(ctx, w.Out, item)
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
	_, err := fmt.Fprintf(w.Out, "%s%s", sep, b.Bytes())
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

// Paginate sends req and follows @odata.nextLink, handing every item of
// every page's value to w as it arrives (learn.microsoft.com/graph/paging).
// A next link must be on an allowed host like any URL; a relative one is
// taken relative to the page's URL. A page may have no items, and still a
// next link. The last page of a delta query has an @odata.deltaLink instead
// of a next link: it is returned, for the next run to start from. A first
// and only page without a value array is not a collection (--paginate on
// /me): it is written whole.
func (c *Client) Paginate(ctx context.Context, req Request, w *Writer) (deltaLink string, err error) {
	for first := true; ; first = false {
		resp, err := c.Do(ctx, req)
		if err != nil {
			return "", err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
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
		if first && !isCollection && page.NextLink == "" {
			return "", w.Body(ctx, bytes.NewReader(body))
		}
		for _, item := range items {
			if err := w.Item(ctx, item); err != nil {
				return "", err
			}
		}
		if page.NextLink == "" {
			return page.DeltaLink, w.End()
		}
		next, err := req.URL.Parse(page.NextLink)
		if err != nil {
			return "", fmt.Errorf("--paginate: invalid @odata.nextLink: %w", err)
		}
		if next.String() == req.URL.String() {
			return "", fmt.Errorf("--paginate: the @odata.nextLink of %s is that page itself: stopped", req.URL.Redacted())
		}
		req = Request{Method: http.MethodGet, URL: next, Header: req.Header}
	}
}
