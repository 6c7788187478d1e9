package reconciler

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the reconciler independent of the adapters: it speaks the
// domain types and its own small interfaces, never a database or directory
// driver, and never another orgsync package but the root.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case strings.HasPrefix(dep, "github.com/orgsync/orgsync/") && dep != "github.com/orgsync/orgsync/reconciler":
			t.Errorf("reconciler imports %s", dep)
		case strings.HasPrefix(dep, "gorm.io/"), strings.Contains(dep, "go-ldap"), strings.Contains(dep, "jackc/pgx"),
			strings.Contains(dep, "sqlite"), strings.Contains(dep, "spf13/cobra"):
			t.Errorf("reconciler depends on %s", dep)
		}
	}
}
