package store

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// writerEnv makes the test binary a writer process for the crash tests: it
// saves crashRecord(n), crashRecord(n+1), ... to the store its JSON value
// describes, printing "begin N" before and "done N" after each Save, until
// it is killed (or writerLifetime passes, should nobody kill it).
const writerEnv = "STORE_TEST_WRITER"

const (
	crashProfile   = "crash"
	crashService   = "ms365auth-crashtest" // keeps leftovers away from ServiceName
	writerLifetime = 30 * time.Second
)

type writerConfig struct {
	Store       string // "file" or "keyring"
	Dir         string `json:",omitempty"`
	Passphrase  string `json:",omitempty"`
	MaxItemSize int    `json:",omitempty"`
	Start       int
}

func (c writerConfig) open() Store {
	if c.Store == "file" {
		return &File{Dir: c.Dir, Passphrase: c.Passphrase, WorkFactor: testWorkFactor}
	}
	k := NewKeyring()
	k.Service, k.MaxItemSize = crashService, c.MaxItemSize
	return k
}

// crashRecord is the record number n: every field depends on n, so that a
// mix of two records is told apart from either of them.
func crashRecord(n int) *Record {
	r := realisticRecord(uint64(n) * 2)
	r.Account = fmt.Sprintf("writer-%d@example.com", n)
	r.Expiry = t0.Add(time.Duration(n) * time.Second)
	return r
}

// crashSeq reads n back from a record claiming to be crashRecord(n).
func crashSeq(r *Record) (int, bool) {
	var n int
	_, err := fmt.Sscanf(r.Account, "writer-%d@example.com", &n)
	return n, err == nil
}

func writerHelper(config string) int {
	var c writerConfig
	if err := json.Unmarshal([]byte(config), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	st := c.open()
	deadline := time.Now().Add(writerLifetime)
	for n := c.Start; time.Now().Before(deadline); n++ {
		fmt.Printf("begin %d\n", n)
		if err := st.Save(crashProfile, crashRecord(n)); err != nil {
			fmt.Fprintln(os.Stderr, "save:", err)
			return 1
		}
		fmt.Printf("done %d\n", n)
	}
	return 0
}
