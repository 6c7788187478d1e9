package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

func TestTargetReportsNameTheTarget(t *testing.T) {
	rep := reconciler.Report{Org: "acme", Source: "kms", Target: "kms", DryRun: true, Plan: orgsync.Plan{Org: "acme", Owner: "kms", Changes: []orgsync.Change{}, Read: 3}}
	for _, tc := range []struct{ format, want, not string }{
		{"text", "Target kms · org acme", "read from the source"},
		{"markdown", "## Target `kms` ← org `acme`", "Source"},
		{"json", `"target": "kms"`, ""},
	} {
		var b bytes.Buffer
		if err := Reports(&b, []reconciler.Report{rep}, Options{Format: tc.format}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) || (tc.not != "" && strings.Contains(b.String(), tc.not)) {
			t.Errorf("%s report:\n%s\nwant %q, not %q", tc.format, b.String(), tc.want, tc.not)
		}
	}
}
