package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiscoverConfig(t *testing.T) {
	dir := t.TempDir()
	local := filepath.Join(dir, "orgsync.yaml")
	system := filepath.Join(dir, "etc", "orgsync.yaml")
	missing := filepath.Join(dir, "missing.yaml")
	os.MkdirAll(filepath.Dir(system), 0o755)
	for _, f := range []string{local, system} {
		os.WriteFile(f, []byte("orgs: [{id: x}]\n"), 0o600)
	}
	both := []string{local, system}
	tests := []struct {
		name       string
		flag, env  string
		candidates []string
		want       configChoice
	}{
		{"--config first", "f.yaml", "e.yaml", both,
			configChoice{Path: "f.yaml", Explicit: true, From: "--config", Others: []string{"e.yaml", local, system}}},
		{"then $ORGSYNC_CONFIG", "", "e.yaml", both,
			configChoice{Path: "e.yaml", Explicit: true, From: "$ORGSYNC_CONFIG", Others: []string{local, system}}},
		{"then ./orgsync.yaml", "", "", both,
			configChoice{Path: local, From: "found", Others: []string{system}}},
		{"then /etc/orgsync/orgsync.yaml", "", "", []string{missing, system},
			configChoice{Path: system, From: "found"}},
		{"else the built-in defaults", "", "", []string{missing},
			configChoice{From: "defaults"}},
		{"the chosen file is not another", local, "", both,
			configChoice{Path: local, Explicit: true, From: "--config", Others: []string{system}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := discoverConfig(tt.flag, tt.env, tt.candidates)
			if got.Path != tt.want.Path || got.Explicit != tt.want.Explicit || got.From != tt.want.From ||
				strings.Join(got.Others, ",") != strings.Join(tt.want.Others, ",") {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// runIn runs the CLI like the binary does (no --config unless given), with
// config candidates replaced.
func runIn(t *testing.T, candidates []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb, candidates: candidates}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	code := 0
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = 1
		errb.WriteString(err.Error())
	}
	if a.st != nil {
		a.st.Close()
	}
	return code, out.String(), errb.String()
}

func TestConfigDiscoveryAsUsed(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	system := filepath.Join(dir, "etc-orgsync.yaml")
	os.WriteFile(system, []byte("database: {driver: sqlite, dsn: "+filepath.Join(dir, "system.db")+"}\n"+
		"log: {format: json}\norgs: [{id: sysorg, name: From etc}]\n"), 0o600)
	t.Setenv("ORGSYNC_CONFIG", "")

	t.Run("a found file is used and named on stderr", func(t *testing.T) {
		code, out, errOut := runIn(t, []string{filepath.Join(dir, "orgsync.yaml"), system}, "members", "list", "--format", "json")
		if code != 0 || strings.TrimSpace(out) != "[]" {
			t.Fatalf("members list: %d %q %q", code, out, errOut)
		}
		if !strings.Contains(errOut, system) {
			t.Errorf("stderr does not name the config file %s: %q", system, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, "system.db")); err != nil {
			t.Errorf("the found config's database was not used: %v", err)
		}
	})
	t.Run("$ORGSYNC_CONFIG wins over found files", func(t *testing.T) {
		env := filepath.Join(dir, "env.yaml")
		os.WriteFile(env, []byte("database: {driver: sqlite, dsn: "+filepath.Join(dir, "env.db")+"}\n"+
			"log: {format: json}\norgs: [{id: envorg, name: From env}]\n"), 0o600)
		t.Setenv("ORGSYNC_CONFIG", env)
		code, _, errOut := runIn(t, []string{system}, "members", "list", "--org", "envorg")
		if code != 0 || !strings.Contains(errOut, env) || !strings.Contains(errOut, "$ORGSYNC_CONFIG") {
			t.Fatalf("members list: %d %q", code, errOut)
		}
		if !strings.Contains(errOut, "creating a new database") || !strings.Contains(errOut, system) {
			t.Errorf("no warning that a new database is made while %s exists: %q", system, errOut)
		}
		// The database exists now: no second warning.
		if _, _, errOut := runIn(t, []string{system}, "members", "list", "--org", "envorg"); strings.Contains(errOut, "creating a new database") {
			t.Errorf("warned again for an existing database: %q", errOut)
		}
	})
	t.Run("built-in defaults are named and honour ORGSYNC_ADMIN_TOKEN", func(t *testing.T) {
		t.Setenv("ORGSYNC_CONFIG", "")
		t.Setenv("ORGSYNC_ADMIN_TOKEN", "admin-token-from-the-environment")
		code, out, errOut := runIn(t, []string{filepath.Join(dir, "none.yaml")}, "config", "validate")
		if code != 0 || !strings.Contains(errOut, "built-in defaults") {
			t.Fatalf("config validate: %d %q %q", code, out, errOut)
		}
		if strings.Contains(out, "admin-token-from-the-environment") || !strings.Contains(out, "admin_token: <redacted>") {
			t.Errorf("the defaults' admin token is not taken from the environment (or is printed): %q", out)
		}
		t.Setenv("ORGSYNC_ADMIN_TOKEN", "short")
		if code, _, errOut := runIn(t, []string{filepath.Join(dir, "none.yaml")}, "config", "validate"); code == 0 || !strings.Contains(errOut, "admin_token") {
			t.Errorf("a too short ORGSYNC_ADMIN_TOKEN is accepted: %d %q", code, errOut)
		}
	})
}

func TestUseColor(t *testing.T) {
	tests := []struct {
		terminal, flag bool
		env            string
		want           bool
	}{
		{true, false, "", true},
		{false, false, "", false},
		{true, true, "", false},
		{true, false, "1", false},
		{true, false, "0", false}, // any value, as no-color.org says
	}
	for _, tt := range tests {
		if got := useColor(tt.terminal, tt.flag, tt.env); got != tt.want {
			t.Errorf("useColor(%v, %v, %q) = %v, want %v", tt.terminal, tt.flag, tt.env, got, tt.want)
		}
	}
}

func TestConsoleLogHonoursColor(t *testing.T) {
	for _, color := range []bool{true, false} {
		var b bytes.Buffer
		log := newLogger(LogConfig{Level: "info", Format: "console"}, &b, false, color)
		log.Warn().Msg("hello")
		if got := strings.Contains(b.String(), "\x1b["); got != color {
			t.Errorf("color %v: escape codes %v in %q", color, got, b.String())
		}
	}
}
