package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

// wholeJSON is the report as encoding the whole document at once gives it:
// what the streamed report must equal byte for byte.
func wholeJSON(t *testing.T, reports []reconciler.Report, orphans []reconciler.Orphan) []byte {
	t.Helper()
	doc := jsonDoc{FormatVersion: FormatVersion, Runs: []jsonRun{}, Orphans: orphans}
	for i := range reports {
		doc.Runs = append(doc.Runs, toJSON(&reports[i], true))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The JSON report has one layout at every size, the indented one, and is
// byte for byte what encoding the whole document gives, whatever the runs
// hold: names that spell the keys the stream cuts at, empty and missing
// lists, no runs at all.
func TestJSONReportIsTheWholeDocumentAtEverySize(t *testing.T) {
	big := firstReport(10_001, 3, 2)
	big.Org = `"changes": []`
	big.Plan.Changes = append(big.Plan.Changes,
		orgsync.Change{Action: orgsync.ActionMemberAdd, UserName: `"members": []`, GroupName: `"changes": [] <&>`},
		orgsync.Change{Action: orgsync.ActionUpdate, UserName: "x", Fields: map[string]orgsync.FieldChange{"given_name": {From: "a", To: `"provisioned": []`}}},
		orgsync.Change{Action: orgsync.ActionReactivate, UserName: "y", Member: &orgsync.Member{Status: orgsync.StatusPendingSetup}})
	big.Applied = &orgsync.Applied{Counts: big.Plan.Summary(), Skipped: []string{`"members": []`}}
	big.Plan.Conflicts = []orgsync.Conflict{{UserName: `"changes": []`, Reason: "\"provisioned\": []\n"}}
	big.RunID = 7
	noStore := reconciler.Report{Org: "acme", Source: "empty", Plan: orgsync.Plan{Org: "acme", Owner: "empty", Changes: []orgsync.Change{}}, Error: "boom"}
	orphans := []reconciler.Orphan{{Org: "acme", Owner: "old", Members: 2, Live: 1}}
	for _, tt := range []struct {
		name    string
		reports []reconciler.Report
		orphans []reconciler.Orphan
	}{
		{"no runs", nil, nil},
		{"no runs, orphans", []reconciler.Report{}, orphans},
		{"samples", sampleReports(), nil},
		{"hostile", []reconciler.Report{hostileReport()}, orphans},
		{"large", []reconciler.Report{big, noStore, sampleReports()[3]}, orphans},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got bytes.Buffer
			if err := Reports(&got, tt.reports, Options{Format: "json", Orphans: tt.orphans}); err != nil {
				t.Fatal(err)
			}
			want := wholeJSON(t, tt.reports, tt.orphans)
			if !bytes.Equal(got.Bytes(), want) {
				i := 0
				for i < len(want) && i < got.Len() && want[i] == got.Bytes()[i] {
					i++
				}
				t.Fatalf("streamed report differs at byte %d: got %.160q, want %.160q", i, got.Bytes()[i:], want[i:])
			}
		})
	}
}

// The version is the document's first key, and a reader of version 1's
// {"runs": [...]} reads the report as before.
func TestJSONReportHasFormatVersion(t *testing.T) {
	for _, r := range [][]reconciler.Report{sampleReports(), {firstReport(10_001, 0, 0)}} {
		var b bytes.Buffer
		if err := Reports(&b, r, Options{Format: "json"}); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(b.String(), "{\n  \"format_version\": 1,\n  \"runs\": [\n    {\n      \"org\": ") {
			t.Errorf("report starts %.80q", b.String())
		}
		var doc struct {
			FormatVersion *int `json:"format_version"`
			Runs          []struct {
				Changes []json.RawMessage `json:"changes"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.FormatVersion == nil || *doc.FormatVersion != 1 || len(doc.Runs) != len(r) || len(doc.Runs[0].Changes) != len(r[0].Plan.Changes) {
			t.Errorf("format_version %v, %d runs, %d changes", doc.FormatVersion, len(doc.Runs), len(doc.Runs[0].Changes))
		}
	}
}
