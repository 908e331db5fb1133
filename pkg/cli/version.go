package cli

import "runtime/debug"

// The release's version and commit, stamped by GoReleaser (-X
// .../pkg/cli.releaseVersion=...). Builds with go build or go install leave
// them empty and use the build info's module version and VCS revision.
var releaseVersion, releaseCommit string

// version is "VERSION (COMMIT)", the commit cut to 12 hex digits.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v, commit := info.Main.Version, releaseCommit
	if releaseVersion != "" {
		v = releaseVersion
	}
	if v == "" {
		v = "(devel)"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && commit == "" {
			commit = s.Value
		}
	}
	if len(commit) >= 12 {
		v += " (" + commit[:12] + ")"
	}
	return v
}
