package callback

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const fuzzState = "kJ3x9_Qz-8Lw2mVb7nT4pR1sY6uA0cE5hG3jK9lN2oI"

// FuzzCallbackRequest sends arbitrary requests (method, path, query,
// content type, body) through a real listener's handler. Whatever arrives:
// no panic; a status from the documented set; the callback is accepted
// (code or error) only when the request carries exactly one state, equal to
// the one sent; an accepted code is the request's single code value; and
// no page ever carries a script or echoes a code.
func FuzzCallbackRequest(f *testing.F) {
	good := "code=0.AXYZ-code&state=" + fuzzState + "&session_state=4b0c3d2e-1f0a-4e9d-8c7b-6a5f4e3d2c1b"
	form := "application/x-www-form-urlencoded"
	f.Add("GET", "/cb", good, "", []byte(nil))
	f.Add("GET", "/cb", "code=forged&state=wrong", "", []byte(nil))
	f.Add("GET", "/cb", "code=a&code=b&state="+fuzzState, "", []byte(nil))
	f.Add("GET", "/cb", "state="+fuzzState+"&state="+fuzzState+"&code=x", "", []byte(nil))
	f.Add("GET", "/cb", "error=access_denied&error_description=AADSTS65004%3A+declined%3Cscript%3Ealert(1)%3C%2Fscript%3E&state="+fuzzState, "", []byte(nil))
	f.Add("GET", "/cb", "state="+fuzzState, "", []byte(nil))
	f.Add("GET", "/cb", "%zz&state="+fuzzState, "", []byte(nil))
	f.Add("POST", "/cb", "", form, []byte(good))
	f.Add("POST", "/cb", "", form+"; charset=utf-8", []byte("error=x&state="+fuzzState))
	f.Add("POST", "/cb", good, "text/plain", []byte(good))
	f.Add("PUT", "/cb", good, "", []byte(nil))
	f.Add("GET", "/favicon.ico", good, "", []byte(nil))
	f.Add("GET", "/cb/", good, "", []byte(nil))

	successBody := renderToString(http.StatusOK, successPage)
	f.Fuzz(func(t *testing.T, method, path, rawQuery, contentType string, body []byte) {
		l, err := Listen(Config{RedirectURI: "http://127.0.0.1/cb", State: fuzzState})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		req := &http.Request{
			Method:        method,
			URL:           &url.URL{Path: path, RawQuery: rawQuery},
			Proto:         "HTTP/1.1",
			ProtoMajor:    1,
			ProtoMinor:    1,
			Header:        http.Header{},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
			Host:          "127.0.0.1",
			RemoteAddr:    "127.0.0.1:50000",
		}
		req = req.WithContext(context.Background())
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		l.serveHTTP(rec, req)

		switch rec.Code {
		case 200, 400, 404, 405, 409, 413, 415:
		default:
			t.Fatalf("status %d", rec.Code)
		}
		page := rec.Body.String()
		if strings.Contains(strings.ToLower(page), "<script") {
			t.Fatalf("the page carries a script:\n%s", page)
		}

		var accepted bool
		select {
		case <-l.done:
			accepted = true
		default:
		}
		if !accepted {
			return
		}
		params := sentParams(method, rawQuery, contentType, body)
		if st := params["state"]; len(st) != 1 || st[0] != fuzzState {
			t.Fatalf("accepted a callback with state %q", st)
		}
		res, err := l.Wait(context.Background())
		if err != nil {
			return // an error callback with the right state
		}
		if codes := params["code"]; len(codes) != 1 || codes[0] != res.Code || res.Code == "" {
			t.Fatalf("accepted code %q from code parameters %q", res.Code, codes)
		}
		if page != successBody {
			t.Fatalf("the success page depends on the request:\n%s", page)
		}
	})
}

// sentParams parses the parameters as the test sees them, independently of
// the handler: the query of a GET, the form body of a POST.
func sentParams(method, rawQuery, contentType string, body []byte) url.Values {
	raw := rawQuery
	if method == http.MethodPost {
		raw = string(body)
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "application/x-www-form-urlencoded") {
			return nil
		}
	} else if method != http.MethodGet {
		return nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil
	}
	return q
}

func renderToString(status int, p page) string {
	rec := httptest.NewRecorder()
	render(rec, status, p)
	return rec.Body.String()
}
