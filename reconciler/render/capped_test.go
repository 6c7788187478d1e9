package render

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

func TestCappedReportGolden(t *testing.T) {
	reports := []reconciler.Report{firstReport(5, 2, 3)}
	for _, tt := range []struct{ file, format string }{{"capped.txt", "text"}, {"capped.md", "markdown"}} {
		var b bytes.Buffer
		if err := Reports(&b, reports, Options{Format: tt.format, PerAction: 3}); err != nil {
			t.Fatal(err)
		}
		golden(t, tt.file, b.Bytes())
	}
}

// A capped report lists the first PerAction changes of each action, in
// the plan's order, and says how many it left out; an action with no more
// than that is listed whole. JSON is never capped.
func TestCappedReportListsFirstChanges(t *testing.T) {
	r := firstReport(50, 2, 30) // group_create 2, provision 50, member_add 60
	for _, format := range []string{"text", "markdown"} {
		var capped, whole bytes.Buffer
		if err := Reports(&capped, []reconciler.Report{r}, Options{Format: format, PerAction: 20}); err != nil {
			t.Fatal(err)
		}
		if err := Reports(&whole, []reconciler.Report{r}, Options{Format: format}); err != nil {
			t.Fatal(err)
		}
		out := capped.String()
		item := map[string]string{"text": "  + ", "markdown": "- `"}[format]
		var provisions, adds []string
		for _, l := range strings.Split(out, "\n") {
			switch rest, ok := strings.CutPrefix(l, item); {
			case ok && strings.HasPrefix(rest, "user"):
				provisions = append(provisions, strings.Trim(rest, "`"))
			case ok && strings.Contains(rest, ": "):
				adds = append(adds, rest)
			}
		}
		if len(provisions) != 20 || provisions[0] != "user0@example.org" || provisions[19] != "user19@example.org" || len(adds) != 20 {
			t.Errorf("%s: capped report lists provisions %q and %d member_adds, want user0…user19 and 20:\n%s", format, provisions, len(adds), out)
		}
		if !strings.Contains(out, "group-1") {
			t.Errorf("%s: the 2 group_creates are not both listed", format)
		}
		if got := strings.Count(out, "… and "); got != 2 {
			t.Errorf("%s: %d \"… and N more\" lines, want 2 (provision, member_add)", format, got)
		}
		for _, want := range []string{"… and 30 more (--full or --format json lists every change)", "… and 40 more (--full or --format json lists every change)"} {
			if format == "markdown" {
				want = mdText(want)
			}
			if !strings.Contains(out, want) {
				t.Errorf("%s: capped report lacks %q:\n%s", format, want, out)
			}
		}
		if strings.Contains(whole.String(), "more (--full") || !strings.Contains(whole.String(), "user49@example.org") {
			t.Errorf("%s: the uncapped report is capped", format)
		}
		if lines := strings.Split(strings.TrimSpace(out), "\n"); !strings.Contains(lines[len(lines)-1], "Awaiting master-key creation: 50 members") {
			t.Errorf("%s: capped report lost its last line", format)
		}
	}
	var a, b bytes.Buffer
	if err := Reports(&a, []reconciler.Report{r}, Options{Format: "json", PerAction: 20}); err != nil {
		t.Fatal(err)
	}
	if err := Reports(&b, []reconciler.Report{r}, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("PerAction changed the JSON report")
	}
}

// A plan out of apply order (a caller's, not Diff's) is listed by action
// all the same, each action's changes in the plan's order.
func TestRenderGroupsAnyOrder(t *testing.T) {
	r := sampleReports()[0]
	rank := func(c orgsync.Change) int { return slices.Index(orgsync.Actions, c.Action) }
	shuffled := slices.Clone(r.Plan.Changes)
	slices.Reverse(shuffled)
	grouped := slices.Clone(shuffled)
	slices.SortStableFunc(grouped, func(a, b orgsync.Change) int { return rank(a) - rank(b) })
	if slices.IsSortedFunc(shuffled, func(a, b orgsync.Change) int { return rank(a) - rank(b) }) {
		t.Fatal("the shuffled plan is in apply order")
	}
	for _, format := range []string{"text", "markdown"} {
		var got, want bytes.Buffer
		r.Plan.Changes = shuffled
		if err := Reports(&got, []reconciler.Report{r}, Options{Format: format}); err != nil {
			t.Fatal(err)
		}
		r.Plan.Changes = grouped
		if err := Reports(&want, []reconciler.Report{r}, Options{Format: format}); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: out of order:\n%s\nwant:\n%s", format, got.String(), want.String())
		}
		if n := strings.Count(got.String(), fmt.Sprint("deprovision (2)")); n != 1 {
			t.Errorf("%s: %d deprovision headings", format, n)
		}
	}
}
