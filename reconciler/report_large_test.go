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
