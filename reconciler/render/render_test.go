package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	reports := sampleReports()
	for _, tt := range []struct {
		file, format string
		color        bool
	}{
		{"reports.txt", "text", false},
		{"reports.color.txt", "text", true},
		{"reports.md", "markdown", false},
		{"reports.json", "json", false},
	} {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := Reports(&b, reports, Options{Format: tt.format, Color: tt.color}); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, b.Bytes())
			if !tt.color && strings.Contains(b.String(), "\x1b[") {
				t.Error("ANSI escapes without color")
			}
		})
	}
}

func TestRenderEndsWithPendingSetup(t *testing.T) {
	for _, format := range []string{"text", "markdown"} {
		for _, r := range sampleReports() {
			var b bytes.Buffer
			if err := Reports(&b, []reconciler.Report{r}, Options{Format: format}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(b.String()), "\n")
			if last := lines[len(lines)-1]; !strings.Contains(last, "Awaiting master-key creation") {
				t.Errorf("%s report of %s ends with %q", format, r.Source, last)
			}
		}
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	if err := Reports(&bytes.Buffer{}, nil, Options{Format: "yaml"}); !errors.Is(err, orgsync.ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
}

// TestJSONContract checks the shape docs/formats.md promises for
// `plan --format json`, independently of the golden file.
func TestJSONContract(t *testing.T) {
	var b bytes.Buffer
	if err := Reports(&b, sampleReports()[:2], Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []map[string]json.RawMessage `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs) != 2 {
		t.Fatalf("%d runs", len(doc.Runs))
	}
	run := doc.Runs[0]
	for _, k := range []string{"org", "source", "summary", "changes", "guard", "applied"} {
		if _, ok := run[k]; !ok {
			t.Errorf("run lacks %q", k)
		}
	}
	var summary map[string]int
	mustUnmarshal(t, run["summary"], &summary)
	for _, k := range []string{"provision", "update", "deprovision", "reactivate", "group_create", "group_update", "group_delete", "member_add", "member_remove"} {
		if _, ok := summary[k]; !ok {
			t.Errorf("summary lacks %q", k)
		}
	}
	var guard map[string]any
	mustUnmarshal(t, run["guard"], &guard)
	if _, ok := guard["blocked"].(bool); !ok {
		t.Errorf("guard.blocked = %v", guard["blocked"])
	}
	if _, ok := guard["reason"].(string); !ok {
		t.Errorf("guard.reason = %v", guard["reason"])
	}
	var applied [2]bool
	mustUnmarshal(t, run["applied"], &applied[0])
	mustUnmarshal(t, doc.Runs[1]["applied"], &applied[1])
	if applied != [2]bool{false, true} {
		t.Errorf("applied = %v, want dry run false, applied run true", applied)
	}
	var changes []map[string]json.RawMessage
	mustUnmarshal(t, run["changes"], &changes)
	seen := map[string]bool{}
	for _, c := range changes {
		var action string
		mustUnmarshal(t, c["action"], &action)
		seen[action] = true
		_, hasFields := c["fields"]
		_, hasGroup := c["group"]
		_, hasUser := c["user_name"]
		switch action {
		case "provision":
			if string(c["fields"]) != "{}" || !hasUser {
				t.Errorf("provision change %s: want user_name and fields {}", c)
			}
		case "member_add", "member_remove":
			if hasFields || !hasGroup || !hasUser {
				t.Errorf("%s change: want group and user_name, no fields: %s", action, c)
			}
		}
	}
	for _, a := range []string{"provision", "update", "deprovision", "reactivate", "adopt", "group_create", "group_update", "group_delete", "member_add", "member_remove"} {
		if !seen[a] {
			t.Errorf("sample plan has no %s change", a)
		}
	}
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}

func TestPendingLineIsCapped(t *testing.T) {
	r := reconciler.Report{Org: "acme", Source: src, Plan: orgsync.Plan{Changes: []orgsync.Change{}}, PendingSetup: []string{}, Applied: &orgsync.Applied{}}
	for i := range 60 {
		r.ProvisionedPending = append(r.ProvisionedPending, fmt.Sprintf("u%02d@x", i))
	}
	r.PendingSetup = r.ProvisionedPending
	var text, js bytes.Buffer
	if err := Reports(&text, []reconciler.Report{r}, Options{Format: "text"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "60 members; this run provisioned 60: u00@x,") || !strings.Contains(text.String(), "u49@x and 10 more.") {
		t.Errorf("text:\n%s", text.String())
	}
	if err := Reports(&js, []reconciler.Report{r}, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"u59@x"`) {
		t.Error("the JSON report does not list every provisioned member")
	}
}
