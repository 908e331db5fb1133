package random

import (
	"regexp"
	"testing"
)

var (
	hexDigits = regexp.MustCompile(`^[0-9a-f]+$`)
	base64url = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

func TestShapes(t *testing.T) {
	cases := []struct {
		name string
		got  func() string
		want *regexp.Regexp
		n    int
	}{
		{"Hex(6)", func() string { return Hex(6) }, hexDigits, 12},
		{"URLSafe(32)", func() string { return URLSafe(32) }, base64url, 43},
		{"Text(2400)", func() string { return Text(2400) }, base64url, 2400},
		{"Text(1)", func() string { return Text(1) }, base64url, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := c.got(), c.got()
			if len(a) != c.n || !c.want.MatchString(a) {
				t.Errorf("%s = %q, want %d characters matching %s", c.name, a, c.n, c.want)
			}
			// Two draws of 6 or more bytes never meet by chance.
			if len(a) > 8 && a == b {
				t.Errorf("%s gave %q twice", c.name, a)
			}
		})
	}
}
