package cli

import (
	"slices"
	"syscall"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/interrupt"
	"github.com/ms365auth/ms365auth/pkg/manual"
)

// TestExitStatusesMatchTheManual: the exit statuses the help, the man
// pages and the README document are the ones Run returns.
func TestExitStatusesMatchTheManual(t *testing.T) {
	var documented []int
	for _, s := range manual.ExitStatuses {
		documented = append(documented, s.Code)
	}
	signaled := []int{interrupt.ExitStatus(syscall.SIGINT), interrupt.ExitStatus(syscall.SIGTERM)}
	if want := append([]int{ExitOK, ExitError, ExitSignIn}, signaled...); !slices.Equal(documented, want) {
		t.Errorf("the manual documents exit statuses %v, the program has %v", documented, want)
	}
}
