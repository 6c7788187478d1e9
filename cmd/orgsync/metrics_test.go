package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/orgsync/orgsync"
)

// countingStore is a fake memberCounter that counts its full counts.
type countingStore struct {
	mu     sync.Mutex
	counts int
	active int
	fail   bool
}

func (s *countingStore) Orgs(context.Context) ([]string, error) { return []string{"acme"}, nil }

func (s *countingStore) StatusCounts(context.Context) (map[string]map[orgsync.Status]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts++
	if s.fail {
		return nil, errors.New("store down")
	}
	return map[string]map[orgsync.Status]int{"acme": {orgsync.StatusActive: s.active}}, nil
}

// TestMemberMetricsAreCached: scrapes within memberCountsTTL, one after
// another or together, share one count of the members; an older count is
// refreshed, and a failed one is retried at the next scrape.
func TestMemberMetricsAreCached(t *testing.T) {
	st := &countingStore{active: 3}
	c := newMemberCollector(st, zerologNop())
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	// gauge returns the value of series name (with label value label, or
	// without labels when "").
	gauge := func(name, label string) string {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				if mf.GetName() != name {
					continue
				}
				if label == "" {
					return m.GetGauge().String()
				}
				for _, l := range m.GetLabel() {
					if l.GetValue() == label {
						return m.GetGauge().String()
					}
				}
			}
		}
		return ""
	}
	active := func() string { return gauge("orgsync_members", "active") }
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = reg.Gather() }()
	}
	wg.Wait()
	if got := active(); got != "value:3" || st.counts != 1 {
		t.Fatalf("11 scrapes within the TTL: active %s, %d counts; want 3 and one count", got, st.counts)
	}
	st.active = 5
	now = now.Add(memberCountsTTL)
	if got := active(); got != "value:5" || st.counts != 2 {
		t.Fatalf("after the TTL: active %s, %d counts; want 5 and a second count", got, st.counts)
	}
	st.fail = true
	now = now.Add(memberCountsTTL)
	if got := gauge("orgsync_store_up", ""); got != "value:0" {
		t.Fatalf("store_up after a failed count = %q, want value:0", got)
	}
	st.fail = false
	if got := active(); got != "value:5" {
		t.Fatalf("after a failed count the next scrape counts again: %s", got)
	}
}
