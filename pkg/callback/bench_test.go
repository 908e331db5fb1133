package callback

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkCallback measures the time from sending a callback to Wait
// returning, which includes delivering the page and shutting the server down.
// Setting up the listener is not timed.
func BenchmarkCallback(b *testing.B) {
	body := goodQuery("0.A" + strings.Repeat("x", 1000)) // about the size of a real code
	send := map[string]func(c *http.Client, uri string) (*http.Response, error){
		"get": func(c *http.Client, uri string) (*http.Response, error) {
			return c.Get(withQuery(uri, body))
		},
		"form_post": func(c *http.Client, uri string) (*http.Response, error) {
			return c.Post(uri, "application/x-www-form-urlencoded", strings.NewReader(body.Encode()))
		},
	}
	for _, name := range []string{"get", "form_post", "spare-connection"} {
		b.Run(name, func(b *testing.B) {
			c := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
			do := send[name]
			if do == nil {
				do = send["get"]
			}
			for b.Loop() {
				b.StopTimer()
				l, err := Listen(Config{RedirectURI: "http://127.0.0.1/cb", State: testState})
				if err != nil {
					b.Fatal(err)
				}
				var spare net.Conn
				if name == "spare-connection" {
					// What a browser's preconnect looks like: never used.
					if spare, err = net.Dial("tcp", l.Addrs()[0].String()); err != nil {
						b.Fatal(err)
					}
				}
				waited := waitAsync(context.Background(), l)
				b.StartTimer()

				resp, err := do(c, l.RedirectURI())
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if o := <-waited; o.err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d, Wait error %v", resp.StatusCode, o.err)
				}
				if spare != nil {
					b.StopTimer()
					spare.Close()
					b.StartTimer()
				}
			}
		})
	}
}
