package reconciler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
)

func TestLargeJSONReportIsCompactAndWhole(t *testing.T) {
	p := orgsync.Plan{Org: "acme", Owner: "corp"}
	for i := 0; i <= indentLimit; i++ {
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: fmt.Sprintf("u%d@example.org", i)})
	}
	var buf bytes.Buffer
	if err := Render(&buf, []Report{{Org: "acme", Source: "corp", Plan: p}}, "json", false); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "\n  ") {
		t.Fatal("a plan over the limit was indented")
	}
	var doc struct {
		Runs []struct {
			Changes []json.RawMessage `json:"changes"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil || len(doc.Runs) != 1 || len(doc.Runs[0].Changes) != indentLimit+1 {
		t.Fatalf("compact report: %v, %d changes", err, len(doc.Runs[0].Changes))
	}
}

// The streamed report is byte for byte what encoding the whole document
// gives, whatever the runs hold.
func TestStreamedJSONReportEqualsWholeDocument(t *testing.T) {
	big := orgsync.Plan{Org: "acme", Owner: "corp"}
	for i := 0; i <= indentLimit; i++ {
		big.Changes = append(big.Changes,
			orgsync.Change{Action: orgsync.ActionProvision, UserName: fmt.Sprintf("u%d@example.org", i)},
			orgsync.Change{Action: orgsync.ActionMemberAdd, UserName: fmt.Sprintf("u%d@example.org", i), GroupName: `"changes":[] <&>`})
	}
	big.Changes = append(big.Changes,
		orgsync.Change{Action: orgsync.ActionUpdate, UserName: "x", Fields: map[string]orgsync.FieldChange{"given_name": {From: "a", To: "b"}}},
		orgsync.Change{Action: orgsync.ActionReactivate, UserName: "y", Member: &orgsync.Member{Status: orgsync.StatusPendingSetup}})
	reports := []Report{
		{Org: `"changes":[]`, Source: "corp", Plan: big, Applied: &orgsync.Applied{Counts: big.Summary(), Skipped: []string{"s"}},
			PendingSetup: []string{"u1@example.org"}, ProvisionedPending: []string{"u1@example.org"}, RunID: 7},
		{Org: "acme", Source: "empty", Plan: orgsync.Plan{Org: "acme", Owner: "empty"}, Error: "boom"},
	}
	var got bytes.Buffer
	if err := Render(&got, reports, "json", false); err != nil {
		t.Fatal(err)
	}
	doc := jsonDoc{}
	for i := range reports {
		doc.Runs = append(doc.Runs, toJSON(&reports[i], true))
	}
	want, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if !bytes.Equal(got.Bytes(), want) {
		i := 0
		for i < len(want) && i < got.Len() && want[i] == got.Bytes()[i] {
			i++
		}
		t.Fatalf("streamed report differs at byte %d: got %.120q, want %.120q", i, got.Bytes()[i:], want[i:])
	}
}
