// Command ms365auth links a Microsoft 365 (Entra ID) account, keeps its
// tokens in the OS keyring and hands out fresh access tokens.
package main

import (
	"context"
	"os"

	"github.com/ms365auth/ms365auth/pkg/cli"
	"github.com/ms365auth/ms365auth/pkg/interrupt"
)

func main() {
	ctx, stop := interrupt.Context(context.Background(), interrupt.Grace, os.Stderr)
	code := cli.Main(ctx)
	stop()
	os.Exit(code)
}
