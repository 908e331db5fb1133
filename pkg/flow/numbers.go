package flow

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// numbersAsNumbers rewrites the given fields of a successful JSON answer
// from strings holding whole numbers ("900") to numbers (900). Entra's v1
// endpoints wrote expires_in and interval that way, and MSAL for Go and
// for Python read both forms; x/oauth2 reads only numbers in a device code
// answer. Anything else passes through untouched.
type numbersAsNumbers struct {
	base   http.RoundTripper
	fields []string
}

func (t numbersAsNumbers) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil || resp.StatusCode/100 != 2 {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if fixed, ok := t.rewrite(body); ok {
		body = fixed
		resp.ContentLength = int64(len(body))
		resp.Header.Del("Content-Length")
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func (t numbersAsNumbers) rewrite(body []byte) ([]byte, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil, false
	}
	changed := false
	for _, f := range t.fields {
		var s string
		if raw, ok := m[f]; !ok || json.Unmarshal(raw, &s) != nil {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			m[f], changed = json.RawMessage(strconv.FormatInt(n, 10)), true
		}
	}
	if !changed {
		return nil, false
	}
	fixed, err := json.Marshal(m)
	return fixed, err == nil
}

// lifetime reads a lifetime in whole seconds from a JSON field, a number or
// a string holding one; 0 for anything else, or for a value that is not a
// positive count of seconds below ten years.
func lifetime(v any) time.Duration {
	var secs float64
	switch n := v.(type) {
	case float64:
		secs = n
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return 0
		}
		secs = f
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		if err != nil {
			return 0
		}
		secs = float64(i)
	default:
		return 0
	}
	if secs != math.Trunc(secs) || secs <= 0 || secs > maxLifetime.Seconds() {
		return 0
	}
	return time.Duration(secs) * time.Second
}

// maxLifetime bounds a believable refresh token lifetime.
const maxLifetime = 10 * 365 * 24 * time.Hour
