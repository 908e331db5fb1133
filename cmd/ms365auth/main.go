// Command ms365auth links a Microsoft 365 (Entra ID) account, keeps its
// tokens in the OS keyring and hands out fresh access tokens.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ms365auth/ms365auth/pkg/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx)
	stop()
	os.Exit(code)
}
