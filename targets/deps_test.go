package targets

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDeps keeps targets an adapter like the sources: it speaks the domain
// types, the reconciler and its own clients, never the store, a source or
// the receiver (the store is reached through the Store interface); TLS
// settings are the sources' (internal/tlsconf). The
// clients know only the root.
func TestDeps(t *testing.T) {
	const mod = "github.com/orgsync/orgsync"
	for pkg, allowed := range map[string][]string{
		".":          {mod, mod + "/targets", mod + "/reconciler", mod + "/targets/scim", mod + "/targets/kmsadmin", mod + "/internal/tlsconf"},
		"./scim":     {mod, mod + "/targets/scim"},
		"./kmsadmin": {mod, mod + "/targets/kmsadmin"},
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			switch {
			case strings.HasPrefix(dep, mod) && !slices.Contains(allowed, dep):
				t.Errorf("%s imports %s", pkg, dep)
			case strings.HasPrefix(dep, "gorm.io/"), strings.Contains(dep, "sqlite"), strings.Contains(dep, "jackc/pgx"), strings.Contains(dep, "spf13/cobra"):
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
