package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/internal/keyringtest"
)

// helperEnv makes the test binary act as a one-shot client: it probes the
// keyring of its environment and prints the outcome as JSON.
const helperEnv = "STORE_TEST_PROBE_TIMEOUT"

type probeResult struct {
	Kind  UnavailableKind
	Error string
}

func TestMain(m *testing.M) {
	if v := os.Getenv(helperEnv); v != "" {
		os.Exit(probeHelper(v))
	}
	if v := os.Getenv(writerEnv); v != "" {
		os.Exit(writerHelper(v))
	}
	keyringtest.Main(m)
}

func probeHelper(timeout string) int {
	k := NewKeyring()
	var err error
	if k.Timeout, err = time.ParseDuration(timeout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var res probeResult
	if err := k.Probe(); err != nil {
		res.Error = err.Error()
		var u *UnavailableError
		if errors.As(err, &u) {
			res.Kind = u.Kind
		}
	}
	json.NewEncoder(os.Stdout).Encode(res)
	return 0
}
