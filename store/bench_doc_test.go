package store_test

import (
	"context"
	"testing"

	"github.com/orgsync/orgsync"
)

// benchDoc is a SCIM document with the enterprise extension and two phone
// numbers, as the receiver stores it.
const benchDoc = `{"phoneNumbers":[{"primary":true,"type":"work","value":"+1 555 0100"},{"type":"mobile","value":"+1 555 0101"}],` +
	`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales","employeeNumber":"1","manager":{"value":"m-1"}}}`

// BenchmarkObserved100kDocs is BenchmarkObserved100k with every member
// carrying benchDoc: the snapshot reads the core columns only, so it must
// cost what it costs without documents.
func BenchmarkObserved100kDocs(b *testing.B) {
	s := openBench(b)
	defer s.Close()
	if _, err := s.Apply(context.Background(), bigPlan(100_000, 1_000)); err != nil {
		b.Fatal(err)
	}
	if err := s.DBForTest().Exec(`INSERT INTO member_docs (member_id, doc) SELECT id, ? FROM members`, benchDoc).Error; err != nil {
		b.Fatal(err)
	}
	if err := s.DBForTest().Exec(`UPDATE members SET doc_sum = ?`, orgsync.AttributesDigestOf([]byte(benchDoc))).Error; err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op") }()
	for i := 0; i < b.N; i++ {
		snap, err := s.Observed(context.Background(), "acme")
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Members) != 100_000 || len(snap.Members[0].Attributes) != 0 {
			b.Fatalf("snapshot has %d members (the first with %d bytes of document)", len(snap.Members), len(snap.Members[0].Attributes))
		}
	}
}
