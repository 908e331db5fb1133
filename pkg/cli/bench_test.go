package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/cli"
	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// reportMedian adds the median of samples as a metric: wall times of whole
// processes are skewed by the odd slow start, so the mean misleads.
func reportMedian(b *testing.B, samples []time.Duration, unit string) {
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	b.ReportMetric(float64(samples[len(samples)/2].Microseconds())/1000, unit)
}

// BenchmarkStatusProcess times `ms365auth status` as a script runs it: a
// new process reading one keyring item.
func BenchmarkStatusProcess(b *testing.B) {
	h := newBenchHarness(b)
	samples := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		cmd := exec.Command(binary, "status")
		cmd.Env = h.env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("status: %v\n%s", err, out)
		}
		samples = append(samples, time.Since(start))
	}
	reportMedian(b, samples, "ms-median")
}

// timedTransport adds up the time spent waiting for the token endpoint.
type timedTransport struct{ spent atomic.Int64 }

func (t *timedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil { // the body is part of the endpoint's time
		var body []byte
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	t.spent.Add(int64(time.Since(start)))
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// BenchmarkReturnedURLToStored times "link --returned-url": from the URL
// entered to the tokens in the keyring and the settings saved, minus the
// token endpoint's own time.
func BenchmarkReturnedURLToStored(b *testing.B) {
	h := newBenchHarness(b)
	for _, kv := range h.env {
		k, v, _ := strings.Cut(kv, "=")
		b.Setenv(k, v)
	}
	samples := make([]time.Duration, 0, b.N)
	for b.Loop() {
		b.StopTimer()
		start := h.run("", "link", "--client-id", testClientID, "--print-link")
		returned := h.signIn(strings.TrimSpace(start.stdout))
		tt := &timedTransport{}
		env := cli.DefaultEnv()
		env.HTTPClient = &http.Client{Transport: tt}
		var errb strings.Builder
		env.IO = cli.IO{In: os.Stdin, Out: io.Discard, Err: &errb}
		b.StartTimer()
		t0 := time.Now()
		code := cli.Run(context.Background(), env, []string{"link", "--returned-url", returned})
		elapsed := time.Since(t0) - time.Duration(tt.spent.Load())
		if code != 0 {
			b.Fatalf("link --returned-url exit %d: %s", code, errb.String())
		}
		samples = append(samples, elapsed)
	}
	reportMedian(b, samples, "ms-median-excl-endpoint")
}

// BenchmarkCallbackToStored times the alternate method's last leg: from the
// browser's callback request reaching the listener to the tokens stored and
// the command done, minus the token endpoint's own time.
func BenchmarkCallbackToStored(b *testing.B) {
	h := newBenchHarness(b)
	h.srv.AddApp(entrasim.App{ClientID: benchAltClientID, MultiTenant: true,
		Redirects: []entrasim.Redirect{{URI: "http://localhost/api/ms365auth", Platform: entrasim.MobileDesktop}}})
	for _, kv := range h.env {
		k, v, _ := strings.Cut(kv, "=")
		b.Setenv(k, v)
	}
	samples := make([]time.Duration, 0, b.N)
	for b.Loop() {
		b.StopTimer()
		tt := &timedTransport{}
		env := cli.DefaultEnv()
		env.HTTPClient = &http.Client{Transport: tt}
		pr, pw := io.Pipe()
		env.IO = cli.IO{In: nil, Out: io.Discard, Err: pw}
		done := make(chan int)
		go func() {
			done <- cli.Run(context.Background(), env, []string{"link", "--alt", "--no-browser", "--client-id", benchAltClientID})
			pw.Close()
		}()
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		var callbackURL string
		for callbackURL == "" && sc.Scan() {
			if isSignInLink(sc.Text()) {
				u, err := h.srv.Authorize(context.Background(), sc.Text())
				if err != nil {
					b.Fatal(err)
				}
				callbackURL = u
			}
		}
		go io.Copy(io.Discard, pr)
		b.StartTimer()
		t0 := time.Now()
		resp, err := http.Get(callbackURL)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		code := <-done
		elapsed := time.Since(t0) - time.Duration(tt.spent.Load())
		if code != 0 {
			b.Fatalf("link --alt exit %d", code)
		}
		samples = append(samples, elapsed)
	}
	reportMedian(b, samples, "ms-median-excl-endpoint")
}

const benchAltClientID = "b3c4d5e6-0000-4000-8000-a17a17a17a17"
