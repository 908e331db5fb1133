package graph

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCloudFor(t *testing.T) {
	for _, tc := range []struct{ authority, graph string }{
		{"https://login.microsoftonline.com", "https://graph.microsoft.com"},
		{"https://login.microsoftonline.us", "https://graph.microsoft.us"},
		{"https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"},
		{"https://login.partner.microsoftonline.cn", "https://microsoftgraph.chinacloudapi.cn"},
	} {
		c, err := CloudFor(tc.authority, "")
		if err != nil || c.Graph != tc.graph {
			t.Errorf("CloudFor(%s) = %+v, %v; want %s", tc.authority, c, err, tc.graph)
		}
	}
	if _, err := CloudFor("http://127.0.0.1:8080", ""); err == nil || !strings.Contains(err.Error(), "MS365AUTH_GRAPH_URL") {
		t.Errorf("unknown authority: %v", err)
	}
	c, err := CloudFor("http://127.0.0.1:8080", "http://127.0.0.1:9090/")
	if err != nil || c.Graph != "http://127.0.0.1:9090" || len(c.Allowed) != 1 || c.Allowed[0] != "127.0.0.1:9090" {
		t.Errorf("graph URL: %+v, %v", c, err)
	}
}

func TestResolve(t *testing.T) {
	us, _ := CloudFor("https://login.microsoftonline.us", "")
	global, _ := CloudFor("https://login.microsoftonline.com", "")
	for _, tc := range []struct {
		cloud  Cloud
		target string
		want   string // "" means refused
	}{
		{global, "/me", "https://graph.microsoft.com/v1.0/me"},
		{global, "me/events?$top=5", "https://graph.microsoft.com/v1.0/me/events?$top=5"},
		{global, "https://graph.microsoft.com/beta/me", "https://graph.microsoft.com/beta/me"},
		{global, "https://outlook.office.com/api/v2.0/me", "https://outlook.office.com/api/v2.0/me"},
		{global, "https://graph.microsoft.us/v1.0/me", ""},
		{global, "http://graph.microsoft.com/v1.0/me", ""},
		{global, "https://graph.microsoft.com.evil.example/v1.0/me", ""},
		{global, "https://user@graph.microsoft.com/v1.0/me", ""},
		{global, "me/messages?$filter=isRead eq false&$search=\"a b\"", "https://graph.microsoft.com/v1.0/me/messages?$filter=isRead%20eq%20false&$search=%22a%20b%22"},
		{global, "https://graph.microsoft.com/v1.0/users?$filter=startswith(displayName,'A%20B')", "https://graph.microsoft.com/v1.0/users?$filter=startswith(displayName,'A%20B')"},
		{global, "me/events?x=100%", "https://graph.microsoft.com/v1.0/me/events?x=100%25"},
		{us, "/me", "https://graph.microsoft.us/v1.0/me"},
		{us, "https://dod-graph.microsoft.us/v1.0/me", "https://dod-graph.microsoft.us/v1.0/me"},
	} {
		u, err := tc.cloud.Resolve(tc.target, "v1.0")
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%s: allowed as %s", tc.target, u)
		case tc.want != "" && (err != nil || u.String() != tc.want):
			t.Errorf("%s: %v, %v; want %s", tc.target, u, err, tc.want)
		}
	}
}

func TestBodyAndQuery(t *testing.T) {
	fields := []Field{
		{Key: "message[subject]", Value: "Hi"},
		{Key: "message[toRecipients][]", Value: "a@example.com"},
		{Key: "message[toRecipients][]", Value: "b@example.com"},
		{Key: "save", Value: "false", Typed: true},
		{Key: "count", Value: "3", Typed: true},
		{Key: "raw", Value: "3"},
		{Key: "text", Value: "@-", Typed: true},
		{Key: "to[][emailAddress][address]", Value: "a@example.com"},
		{Key: "to[][emailAddress][name]", Value: "A"},
		{Key: "to[][emailAddress][address]", Value: "b@example.com"},
	}
	b, err := Body(fields, strings.NewReader("from stdin"))
	want := `{"count":3,"message":{"subject":"Hi","toRecipients":["a@example.com","b@example.com"]},"raw":"3","save":false,"text":"from stdin","to":[{"emailAddress":{"address":"a@example.com","name":"A"}},{"emailAddress":{"address":"b@example.com"}}]}`
	if err != nil || string(b) != want {
		t.Errorf("Body = %s, %v\nwant %s", b, err, want)
	}
	if _, err := Body([]Field{{Key: "a", Value: "1"}, {Key: "a[b]", Value: "2"}}, nil); err == nil {
		t.Error("a value and an object under one key were accepted")
	}
	if _, err := Body([]Field{{Key: "a[b", Value: "1"}}, nil); err == nil {
		t.Error("an unclosed bracket was accepted")
	}
	u, _ := url.Parse("https://graph.microsoft.com/v1.0/me/events?$top=5")
	if err := Query(u, []Field{{Key: "$select", Value: "subject"}, {Key: "n", Value: "true", Typed: true}}, nil); err != nil || u.RawQuery != "%24select=subject&%24top=5&n=true" {
		t.Errorf("Query = %s, %v", u.RawQuery, err)
	}
	if _, err := ParseField("novalue", false); err == nil || !strings.Contains(err.Error(), "-f key=value") {
		t.Errorf("ParseField: %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	serverNow := now.Add(-time.Hour) // the server's clock is an hour behind ours
	for _, tc := range []struct {
		v, date string
		want    time.Duration
	}{
		{"7", "", 7 * time.Second},
		{" 7 ", "", 7 * time.Second},
		{"0", "", 0},
		{"", "", time.Second},
		{"soon", "", time.Second},
		{"-5", "", time.Second},
		{"1.5", "", 1500 * time.Millisecond},
		{now.Add(30 * time.Second).Format(http.TimeFormat), "", 30 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), "", 0},
		// RFC 850 and asctime dates are HTTP-dates too.
		{now.Add(30 * time.Second).Format(time.RFC850), "", 30 * time.Second},
		{now.Add(30 * time.Second).Format(time.ANSIC), "", 30 * time.Second},
		// A date is measured from the server's Date, not our clock.
		{serverNow.Add(20 * time.Second).Format(http.TimeFormat), serverNow.Format(http.TimeFormat), 20 * time.Second},
	} {
		h := http.Header{}
		if tc.v != "" {
			h.Set("Retry-After", tc.v)
		}
		if tc.date != "" {
			h.Set("Date", tc.date)
		}
		if got := retryAfter(h, time.Second, now); got != tc.want {
			t.Errorf("retryAfter(%q, Date %q) = %s, want %s", tc.v, tc.date, got, tc.want)
		}
	}
	// Too large to represent is a long wait, never a short or negative one.
	for _, v := range []string{"99999999999999999999", "1000000000000", "9223372036854775807"} {
		h := http.Header{"Retry-After": {v}}
		if got := retryAfter(h, time.Second, now); got < 24*time.Hour {
			t.Errorf("retryAfter(%q) = %s", v, got)
		}
	}
}

// TestDoRetriesAndRenews drives Do against a scripted server: throttling
// is retried within the bound, a plain 401 renews the token once.
func TestDoRetriesAndRenews(t *testing.T) {
	var answers []func(w http.ResponseWriter)
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auths = append(auths, r.Header.Get("Authorization"))
		next := answers[0]
		answers = answers[1:]
		next(w)
	}))
	defer srv.Close()
	status := func(code int, retryAfter string) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(code)
		}
	}
	cloud, _ := CloudFor("", srv.URL)
	var slept []time.Duration
	tokens := 0
	var log bytes.Buffer
	c := &Client{Cloud: cloud, Log: &log, MaxWait: 10 * time.Second,
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
		Token: func(_ context.Context, renew bool) (string, error) {
			if renew || tokens == 0 {
				tokens++
			}
			return "t" + string(rune('0'+tokens)), nil
		}}
	u, _ := cloud.Resolve("/me", "v1.0")

	answers = append(answers, status(429, "2"), status(503, ""), status(401, ""), status(200, ""))
	resp, err := c.Do(context.Background(), Request{Method: "GET", URL: u})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("Do: %v, %v", resp, err)
	}
	if len(slept) != 2 || slept[0] != 2*time.Second || slept[1] != 2*time.Second {
		t.Errorf("slept %v", slept)
	}
	if strings.Join(auths, ",") != "Bearer t1,Bearer t1,Bearer t1,Bearer t2" {
		t.Errorf("tokens sent: %v", auths)
	}

	answers = append(answers, status(401, ""), status(401, ""))
	_, err = c.Do(context.Background(), Request{Method: "GET", URL: u})
	var he *HTTPError
	if !errors.As(err, &he) || he.Resp.StatusCode != 401 {
		t.Errorf("second 401: %v", err)
	}

	answers = append(answers, status(429, "60"))
	_, err = c.Do(context.Background(), Request{Method: "GET", URL: u})
	if !errors.As(err, &he) || !strings.Contains(log.String(), "giving up") {
		t.Errorf("long Retry-After: %v, log %q", err, log.String())
	}
}

func TestWriterAndFilter(t *testing.T) {
	var out bytes.Buffer
	w := &Writer{Out: &out}
	for _, item := range []string{`{"a": 1}`, `{"a":2}`} {
		if err := w.Item(context.Background(), json.RawMessage(item)); err != nil {
			t.Fatal(err)
		}
	}
	w.End()
	if out.String() != "[\n{\"a\":1},\n{\"a\":2}\n]\n" {
		t.Errorf("array: %q", out.String())
	}
	out.Reset()
	(&Writer{Out: &out}).End()
	if out.String() != "[]\n" {
		t.Errorf("empty: %q", out.String())
	}
	f, err := NewFilter(`.value[] | .name, .n`)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := f.Write(context.Background(), &out, []byte(`{"value":[{"name":"x","n":12345678901},{"name":"y","n":1.5}]}`)); err != nil || out.String() != "x\n12345678901\ny\n1.5\n" {
		t.Errorf("filter: %q, %v", out.String(), err)
	}
	if _, err := NewFilter(`.[`); err == nil {
		t.Error("a bad expression compiled")
	}
}

func TestErrorSummary(t *testing.T) {
	for _, tc := range []struct{ contentType, body, want string }{
		{"application/json", `{"error":{"code":"ResourceNotFound","message":"Resource not found for the segment 'x'.","innerError":{"date":"2026-01-01T00:00:00","request-id":"r"}}}`,
			"ResourceNotFound: Resource not found for the segment 'x'."},
		{"application/json", `{"error":{"code":"UnknownError","message":"","innerError":{}}}`, "UnknownError"},
		{"application/json;odata=verbose", `{"odata.error":{"code":"-1","message":{"lang":"en-US","value":"Access denied."}}}`, "-1: Access denied."},
		{"application/json", `{"error":"invalid_token","error_description":"The token expired."}`, "invalid_token: The token expired."},
		{"text/html; charset=utf-8", "<html><body>502</body></html>", "the answer is an HTML page, not Graph's JSON: a proxy or gateway on the way answered"},
		{"", "  <!DOCTYPE html>", "the answer is an HTML page, not Graph's JSON: a proxy or gateway on the way answered"},
		{"text/plain", "upstream connect error", ""},
		{"application/json", `[1,2]`, ""},
		{"", "", ""},
		{"application/json", "{\"error\":{\"code\":\"Bad\",\"message\":\"a\u009b2Jb\u202ec\"}}", "Bad: a 2Jbc"},
	} {
		if got := ErrorSummary(tc.contentType, []byte(tc.body)); got != tc.want {
			t.Errorf("ErrorSummary(%q) = %q, want %q", tc.body, got, tc.want)
		}
	}
	long := ErrorSummary("", []byte(`{"error":{"code":"C","message":"`+strings.Repeat("é", 400)+`"}}`))
	if len(long) > maxSummary+len("…") || !strings.HasSuffix(long, "…") || !utf8.ValidString(long) {
		t.Errorf("long message: %d bytes, %q", len(long), long[len(long)-8:])
	}
}

// TestDoClaimsChallengeOn403: Graph's error docs also give claims
// challenges a 403.
func TestDoClaimsChallengeOn403(t *testing.T) {
	const claims = `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", error="insufficient_claims", claims="`+base64.RawURLEncoding.EncodeToString([]byte(claims))+`"`)
		w.WriteHeader(http.StatusForbidden)
	}))
	defer srv.Close()
	cloud, _ := CloudFor("", srv.URL)
	u, _ := cloud.Resolve("/me", "v1.0")
	c := &Client{Cloud: cloud, Log: io.Discard, Token: func(context.Context, bool) (string, error) { return "t", nil }}
	_, err := c.Do(context.Background(), Request{Method: "GET", URL: u})
	var ce *ClaimsChallengeError
	if !errors.As(err, &ce) || ce.Claims != claims {
		t.Errorf("Do = %v", err)
	}
}

// TestDoRetriesBandwidthLimit: Graph's 509 is throttling too.
func TestDoRetriesBandwidthLimit(t *testing.T) {
	answers := []int{509, http.StatusOK}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(answers[0])
		answers = answers[1:]
	}))
	defer srv.Close()
	cloud, _ := CloudFor("", srv.URL)
	u, _ := cloud.Resolve("/me", "v1.0")
	var slept []time.Duration
	c := &Client{Cloud: cloud, Log: io.Discard, Token: func(context.Context, bool) (string, error) { return "t", nil },
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }}
	resp, err := c.Do(context.Background(), Request{Method: "POST", URL: u, Body: []byte("{}")})
	if err != nil || resp.StatusCode != 200 || len(slept) != 1 || slept[0] != 3*time.Second {
		t.Errorf("Do: %v, %v; slept %v", resp, err, slept)
	}
}
