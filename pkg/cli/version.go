package cli

import "runtime/debug"

// releaseVersion is the release's version, stamped by GoReleaser
// (-X .../pkg/cli.releaseVersion=...). Builds with go build or go install
// leave it empty and use the module version.
var releaseVersion string

// version is the release or module version and the VCS revision from the
// build info.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	if releaseVersion != "" {
		v = releaseVersion
	}
	if v == "" {
		v = "(devel)"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v
}
