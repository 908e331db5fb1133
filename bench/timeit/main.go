// Command timeit runs commands alternately and prints each one's median
// wall time and peak memory, and the ratios of the medians to the first
// command given after -floor.
//
//	timeit -n 200 -floor 'floor sandbox' 'ms365auth token -p sandbox' 'secret-tool lookup ...'
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

type sample struct {
	wall   time.Duration
	maxRSS int64 // kilobytes; 0 where the system does not say
}

func main() {
	n := flag.Int("n", 100, "runs per command")
	floor := flag.String("floor", "", "the command the others are compared with")
	flag.Parse()
	commands := append([]string{*floor}, flag.Args()...)
	if *floor == "" || len(commands) < 2 {
		fmt.Fprintln(os.Stderr, "usage: timeit [-n N] -floor CMD CMD...")
		os.Exit(2)
	}
	results := make([][]sample, len(commands))
	for i := 0; i < *n+5; i++ {
		for c, command := range commands {
			s, err := run(command)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", command, err)
				os.Exit(1)
			}
			if i >= 5 { // warm-up runs are not counted
				results[c] = append(results[c], s)
			}
		}
	}
	floorMedian := median(results[0])
	fmt.Printf("%-60s %10s %10s %10s %8s\n", "command", "median", "p90", "peak RSS", "ratio")
	for c, command := range commands {
		m := median(results[c])
		fmt.Printf("%-60s %8.2fms %8.2fms %8.1fMB %7.2fx\n", shorten(command, 60), ms(m), ms(p90(results[c])),
			float64(peakRSS(results[c]))/1024, float64(m)/float64(floorMedian))
	}
}

func run(command string) (sample, error) {
	f := strings.Fields(command)
	cmd := exec.Command(f[0], f[1:]...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return sample{}, err
	}
	wall := time.Since(start)
	return sample{wall: wall, maxRSS: maxRSSKB(cmd.ProcessState)}, nil
}

func walls(s []sample) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, v := range s {
		out[i] = v.wall
	}
	slices.Sort(out)
	return out
}

func median(s []sample) time.Duration { w := walls(s); return w[len(w)/2] }
func p90(s []sample) time.Duration    { w := walls(s); return w[len(w)*9/10] }

func peakRSS(s []sample) int64 {
	var m int64
	for _, v := range s {
		m = max(m, v.maxRSS)
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
