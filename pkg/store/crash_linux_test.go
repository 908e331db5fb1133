//go:build linux

package store

// Crash safety: a writer process saving records in a loop is killed with
// SIGKILL at random moments; afterwards the store must hold the record
// before the interrupted Save or the one it was writing, whole.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ms365auth/ms365auth/pkg/internal/keyringtest"
)

// Bounds of each crash test: whichever is reached first ends it.
const (
	crashKills  = 60
	crashBudget = 3 * time.Second
)

func TestCrashFile(t *testing.T) {
	for _, tc := range []struct{ name, passphrase string }{
		{"plain", ""},
		{"encrypted", "crash test passphrase"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := writerConfig{Store: "file", Dir: t.TempDir(), Passphrase: tc.passphrase}
			crashTest(t, c)
		})
	}
}

func TestCrashKeyring(t *testing.T) {
	keyringtest.Require(t)
	for _, tc := range []struct {
		name string
		max  int
	}{
		{"one item", 0},
		{"split as on Windows", WindowsMaxItemSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := writerConfig{Store: "keyring", MaxItemSize: tc.max}
			t.Cleanup(func() { c.open().Delete(crashProfile) })
			crashTest(t, c)
		})
	}
}

// writerRun is what one killed writer did, as far as it said.
type writerRun struct {
	begun, done int // the last "begin N" and "done N" seen; -1 if none
}

func crashTest(t *testing.T, c writerConfig) {
	st := c.open()
	if err := st.Save(crashProfile, crashRecord(0)); err != nil {
		t.Fatal(err)
	}
	kills, budget := crashKills, crashBudget
	if testing.Short() {
		kills = 10
	}
	stored, next := 0, 1
	var midSave, landed int
	var saveTime time.Duration // a running estimate of one Save
	start := time.Now()
	i := 0
	for ; i < kills && time.Since(start) < budget; i++ {
		c.Start = next
		run, avg := killWriter(t, c, saveTime)
		if avg > 0 {
			saveTime = (saveTime + avg) / 2
		}

		got, err := st.Load(crashProfile)
		if err != nil {
			t.Fatalf("kill %d: the store holds nothing readable: %v", i, err)
		}
		n, ok := crashSeq(got)
		if !ok {
			t.Fatalf("kill %d: the stored record is none of the writer's", i)
		}
		before := stored
		if run.done >= 0 {
			before = run.done
		}
		if n != before && n != run.begun {
			t.Fatalf("kill %d: stored record %d, want %d (the last saved) or %d (the one being saved)", i, n, before, run.begun)
		}
		if diff := cmp.Diff(crashRecord(n), got); diff != "" {
			t.Fatalf("kill %d: record %d is not whole (-want +got):\n%s", i, n, diff)
		}
		if run.begun > before {
			midSave++
			if n == run.begun {
				landed++
			}
		}
		stored, next = n, max(run.begun, n)+1
	}
	t.Logf("%d kills in %s, %d of them during a Save (%d of those Saves had landed); one Save takes about %s",
		i, time.Since(start).Round(time.Millisecond), midSave, landed, saveTime.Round(time.Microsecond))
	if midSave == 0 {
		t.Errorf("no kill hit a Save in progress")
	}
}

// killWriter starts a writer, lets it finish a random number (0–3) of
// Saves, and kills it a random moment (up to twice a typical Save) into
// the next one. It returns what the writer reported and the average time
// of the Saves it saw complete.
func killWriter(t *testing.T, c writerConfig, saveTime time.Duration) (writerRun, time.Duration) {
	t.Helper()
	config, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), writerEnv+"="+string(config))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	type line struct {
		begin bool
		n     int
		at    time.Time
	}
	lines := make(chan line)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var l line
			var word string
			if _, err := fmt.Sscanf(sc.Text(), "%s %d", &word, &l.n); err == nil {
				l.begin, l.at = word == "begin", time.Now()
				lines <- l
			}
		}
	}()

	run := writerRun{begun: -1, done: -1}
	var total time.Duration
	var began time.Time
	completed, wantComplete := 0, rand.IntN(4)
	var kill <-chan time.Time // armed at the Save to interrupt
	killed := false
	for open := true; open; {
		select {
		case l, ok := <-lines:
			switch {
			case !ok:
				open = false
			case l.begin:
				run.begun, began = l.n, l.at
				if completed == wantComplete && !killed {
					d := time.Duration(0)
					if saveTime > 0 {
						d = rand.N(2 * saveTime)
					}
					kill = time.After(d)
				}
			default:
				run.done = l.n
				total += l.at.Sub(began)
				completed++
			}
		case <-kill:
			cmd.Process.Kill()
			killed, kill = true, nil
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the writer ended on its own (%v): %s", err, stderr.String())
	}
	avg := time.Duration(0)
	if completed > 0 {
		avg = total / time.Duration(completed)
	}
	return run, avg
}
