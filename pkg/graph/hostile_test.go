package graph

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestGraphURLRefusesClearTextAndUserInfo: MS365AUTH_GRAPH_URL over http
// would send the bearer token in clear text, and user info in it hides the
// real host (graph.microsoft.com%2F@evil.example is evil.example).
func TestGraphURLRefusesClearTextAndUserInfo(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"http://graph.microsoft.com", "clear text"},
		{"http://10.0.0.8:8080", "clear text"},
		{"https://graph.microsoft.com%2F@evil.example", "user info"},
		{"https://me:pw@graph.microsoft.com", "user info"},
	} {
		c, err := CloudFor("https://login.microsoftonline.com", tc.url)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %+v, %v; want a refusal naming %s", tc.url, c, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: the error repeats the password: %v", tc.url, err)
		}
	}
	for _, ok := range []string{"http://127.0.0.1:9090", "http://[::1]:9090", "http://localhost:9090", "https://graph.example.org"} {
		if _, err := CloudFor("https://login.microsoftonline.com", ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// TestResolveTakesOnlyASchemeForAURL: a path whose query quotes a URL is
// still a path.
func TestResolveTakesOnlyASchemeForAURL(t *testing.T) {
	global, _ := CloudFor("https://login.microsoftonline.com", "")
	u, err := global.Resolve("/me/events?$filter=webLink eq 'https://outlook.office365.com/x'", "v1.0")
	if err != nil || u.Host != "graph.microsoft.com" || !strings.HasPrefix(u.Path, "/v1.0/me/events") {
		t.Errorf("a path with a URL in its query: %v, %v", u, err)
	}
	for _, foreign := range []string{"https://evil.example/x", "HTTPS://evil.example/x", "web+x://evil.example/x"} {
		if u, err := global.Resolve(foreign, "v1.0"); err == nil {
			t.Errorf("%s: taken as %s", foreign, u)
		}
	}
}

// TestFieldValueAndObjectClashEitherWay: -f 'a[b]=1' -f 'a=2' silently sent
// {"a":"2"} while the other order was an error.
func TestFieldValueAndObjectClashEitherWay(t *testing.T) {
	for _, keys := range [][]string{{"a[b]", "a"}, {"a", "a[b]"}, {"a[]", "a"}, {"a", "a[]"}} {
		var fields []Field
		for i, k := range keys {
			f, err := ParseField(fmt.Sprintf("%s=%d", k, i+1), false)
			if err != nil {
				t.Fatal(err)
			}
			fields = append(fields, f)
		}
		if b, err := Body(fields, nil); err == nil {
			t.Errorf("%v: sent %s, want an error", keys, b)
		}
	}
}

// TestReasonPhraseIsCleaned: the retry line and the error print Graph's
// reason phrase; escape sequences in it must not reach the terminal.
func TestReasonPhraseIsCleaned(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				io.WriteString(conn, "HTTP/1.1 429 Too \x1b]8;;https://evil.example\x07Many\x1b[2J\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n")
			}()
		}
	}()
	cloud, _ := CloudFor("", "http://"+ln.Addr().String())
	var log bytes.Buffer
	c := &Client{Cloud: cloud, Log: &log, Sleep: func(context.Context, time.Duration) error { return nil },
		Token: func(context.Context, bool) (string, error) { return "t", nil }}
	u, _ := cloud.Resolve("/me", "v1.0")
	_, err = c.Do(context.Background(), Request{Method: "GET", URL: u})
	var he *HTTPError
	if !errors.As(err, &he) {
		t.Fatalf("Do: %v", err)
	}
	if !strings.Contains(log.String(), "Graph answered 429 Too") {
		t.Errorf("no retry line: %q", log.String())
	}
	for what, s := range map[string]string{"retry line": log.String(), "error": err.Error()} {
		if strings.ContainsAny(s, "\x1b\x07") {
			t.Errorf("the %s carries the reason phrase raw: %q", what, s)
		}
	}
}
