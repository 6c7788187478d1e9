package reconciler

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDeps keeps the reconciler independent of the adapters: it speaks the
// domain types and its own small interfaces, never a database or directory
// driver, and never another orgsync package but the root. Its renderer
// (./render) reads it and the root, nothing else: rendering stays apart
// from computing, and the reconciler never imports its renderer.
func TestDeps(t *testing.T) {
	const mod = "github.com/orgsync/orgsync/"
	for pkg, allowed := range map[string][]string{
		".":        {mod + "reconciler"},
		"./render": {mod + "reconciler", mod + "reconciler/render"},
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			switch {
			case strings.HasPrefix(dep, mod) && !slices.Contains(allowed, dep):
				t.Errorf("%s imports %s", pkg, dep)
			case strings.HasPrefix(dep, "gorm.io/"), strings.Contains(dep, "go-ldap"), strings.Contains(dep, "jackc/pgx"),
				strings.Contains(dep, "sqlite"), strings.Contains(dep, "spf13/cobra"):
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
