package buildinfo

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// Set with -ldflags -X at link time; see the package doc.
var (
	version string
	commit  string
	date    string
)

// Info is one build's identity. Unknown parts are "unknown" (Version "dev").
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
}

// String is the one-line form `orgsync version` prints.
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, built %s)", i.Version, i.Commit, i.Date)
}

var get = sync.OnceValue(func() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(version, commit, date, bi)
})

// Get returns the running binary's Info.
func Get() Info { return get() }

// resolve prefers the link-time values and fills the gaps from the
// toolchain's record bi (nil when the binary has none).
func resolve(version, commit, date string, bi *debug.BuildInfo) Info {
	if bi != nil {
		fromToolchain, modified := commit == "", false
		if version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if commit == "" {
					commit = s.Value
				}
			case "vcs.time":
				if date == "" {
					date = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if fromToolchain && modified && commit != "" {
			commit += "-dirty"
		}
	}
	return Info{Version: or(version, "dev"), Commit: or(commit, "unknown"), Date: or(date, "unknown")}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
