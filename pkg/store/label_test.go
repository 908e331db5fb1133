package store

import "testing"

func TestItemLabel(t *testing.T) {
	cases := map[string]string{
		"work":                                  "ms365auth tokens for profile work",
		"work:client-secret":                    "ms365auth client secret for profile work",
		"work#0123456789abcdef#2":               "ms365auth tokens for profile work (part 2)",
		"work:client-secret#0123456789abcdef#0": "ms365auth client secret for profile work (part 0)",
	}
	for item, want := range cases {
		if got := itemLabel("ms365auth", item); got != want {
			t.Errorf("itemLabel(%q) = %q, want %q", item, got, want)
		}
	}
}
