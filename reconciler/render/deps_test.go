package render

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps rendering a leaf: it reads the reconciler's reports and
// the domain types, and nothing of the adapters. The reconciler's own
// TestDeps keeps the reverse edge out.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if rest, ok := strings.CutPrefix(dep, "github.com/orgsync/orgsync/"); ok && rest != "reconciler" && rest != "reconciler/render" {
			t.Errorf("render imports %s", dep)
		}
	}
}
