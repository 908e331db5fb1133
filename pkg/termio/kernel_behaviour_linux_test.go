package termio

import (
	"testing"
)

// TestKernelCanonicalModeTruncatesLongLines documents the Linux kernel, not
// termio: it shows the problem ReadLine solves. A terminal in its usual
// canonical mode keeps at most 4,095 bytes of a line (N_TTY), so a long
// pasted URL arrives cut short, without any error. If a kernel ever stops
// cutting, this test fails and says the workaround may no longer be needed.
func TestKernelCanonicalModeTruncatesLongLines(t *testing.T) {
	ft := newFakeTerminal(t)
	const pasted = 5000
	line := make([]byte, pasted)
	for i := range line {
		line[i] = 'a'
	}
	ft.typeText(t, string(line)+"\n")

	buf := make([]byte, 2*pasted)
	n, err := ft.slave.Read(buf) // canonical mode: one read returns one line
	if err != nil {
		t.Fatal(err)
	}
	got := buf[:n]
	t.Logf("pasted %d bytes and a newline; canonical mode delivered %d bytes", pasted, n)
	if n >= pasted {
		t.Fatalf("canonical mode delivered %d bytes of a %d-byte line; expected the kernel to cut it", n, pasted)
	}
	if got[n-1] != '\n' {
		t.Errorf("the cut line does not end in a newline: ...%q", got[max(0, n-10):])
	}
}
