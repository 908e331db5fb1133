// Command floor is the benchmark floor for "ms365auth token": a Go program
// that only starts, reads one keyring item with go-keyring and prints it.
package main

import (
	"fmt"
	"os"

	"github.com/zalando/go-keyring"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floor ITEM")
		os.Exit(2)
	}
	v, err := keyring.Get("ms365auth", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(v)
}
