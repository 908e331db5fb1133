package termio

import (
	"context"
	"os"
	"time"
)

// byteSource reads a file one byte at a time on a helper goroutine, so that a
// reader can stop waiting when its context is done. One byte at a time, and
// only when asked, so that nothing after the line is consumed: a terminal or
// pipe has no way to give bytes back.
type byteSource struct {
	f       *os.File
	want    chan struct{}   // asks the goroutine for one more byte; closed when done
	got     chan readResult // the goroutine's answer; buffered so it can always finish
	pending bool            // a byte was asked for and not yet received
}

type readResult struct {
	b   byte
	err error
}

func newByteSource(f *os.File) *byteSource {
	s := &byteSource{
		f:    f,
		want: make(chan struct{}),
		got:  make(chan readResult, 1),
	}
	go s.loop()
	return s
}

func (s *byteSource) loop() {
	var buf [1]byte
	for range s.want {
		n, err := s.f.Read(buf[:])
		if n == 1 {
			err = nil // a read error after the byte shows up again on the next read
		}
		s.got <- readResult{b: buf[0], err: err}
	}
}

// next returns the next byte of input, or ctx.Err() as soon as ctx is done.
func (s *byteSource) next(ctx context.Context) (byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if !s.pending {
		s.want <- struct{}{}
		s.pending = true
	}
	select {
	case r := <-s.got:
		s.pending = false
		return r.b, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// close stops the goroutine. A read still pending is interrupted if the file
// supports read deadlines; otherwise it is left to finish when input arrives,
// and the goroutine exits then.
func (s *byteSource) close() {
	close(s.want)
	if !s.pending {
		return
	}
	if s.f.SetReadDeadline(time.Now()) == nil {
		<-s.got
		s.f.SetReadDeadline(time.Time{})
	}
}
