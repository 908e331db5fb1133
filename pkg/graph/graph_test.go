package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
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

func TestParseClaimsChallenge(t *testing.T) {
	const claims = `{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}`
	b64 := "eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWUiOiIxNzAwMDAwMDAwIn19fQ=="
	for _, tc := range []struct {
		header string
		ok     bool
	}{
		{`Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="` + b64 + `"`, true},
		{`Bearer error=insufficient_claims, claims="` + b64 + `"`, true},
		{`Bearer realm="", error="invalid_token", claims="` + b64 + `"`, false},
		{`Bearer realm="", error="insufficient_claims", claims="not base64 json"`, false},
		{`Bearer realm="a, error=\"insufficient_claims\""`, false},
	} {
		got, ok := ParseClaimsChallenge([]string{tc.header})
		if ok != tc.ok || (ok && got != claims) {
			t.Errorf("%s: %q, %v", tc.header, got, ok)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"7", 7 * time.Second},
		{"", time.Second},
		{"soon", time.Second},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	} {
		if got := retryAfter(tc.v, time.Second, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tc.v, got, tc.want)
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
