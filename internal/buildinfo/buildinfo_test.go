package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	toolchain := &debug.BuildInfo{
		Main: debug.Module{Version: "v0.9.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-11-30T10:00:00Z"},
			{Key: "vcs.modified", Value: "false"},
		},
	}
	dirty := &debug.BuildInfo{
		Main: debug.Module{Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tests := []struct {
		name                  string
		version, commit, date string
		bi                    *debug.BuildInfo
		want                  Info
	}{
		{"nothing known", "", "", "", nil, Info{"dev", "unknown", "unknown"}},
		{"stamped at link time wins", "v1.2.3", "abc", "2026-12-01T00:00:00Z", toolchain,
			Info{"v1.2.3", "abc", "2026-12-01T00:00:00Z"}},
		{"toolchain fills the gaps", "", "", "", toolchain,
			Info{"v0.9.0", "0123456789abcdef0123456789abcdef01234567", "2026-11-30T10:00:00Z"}},
		{"devel build with local changes", "", "", "", dirty,
			Info{"dev", "0123456789abcdef0123456789abcdef01234567-dirty", "unknown"}},
		{"partly stamped", "v2.0.0", "", "", toolchain,
			Info{"v2.0.0", "0123456789abcdef0123456789abcdef01234567", "2026-11-30T10:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolve(tt.version, tt.commit, tt.date, tt.bi); got != tt.want {
				t.Errorf("resolve = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	got := Info{"v1", "c0ffee", "2026-12-02T00:00:00Z"}.String()
	if want := "v1 (commit c0ffee, built 2026-12-02T00:00:00Z)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
