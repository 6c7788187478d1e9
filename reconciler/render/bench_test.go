package render

import (
	"io"
	"runtime"
	"testing"

	"github.com/orgsync/orgsync/reconciler"
)

// peakWriter discards what it is given and samples the live heap (after a
// collection) every 256 KiB written: what the renderer holds while it
// writes, above the heap when it started.
type peakWriter struct {
	base, peak uint64
	since, n   int
}

func newPeakWriter() *peakWriter {
	w := &peakWriter{}
	w.base = liveHeap()
	return w
}

func (w *peakWriter) Write(b []byte) (int, error) {
	w.since += len(b)
	w.n += len(b)
	if w.since >= 256<<10 {
		w.since = 0
		w.sample()
	}
	return len(b), nil
}

func (w *peakWriter) sample() {
	if h := liveHeap(); h > w.base {
		w.peak = max(w.peak, h-w.base)
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestLargeReportsStream renders a first provisioning of 20k users and
// 200 groups of 200 (60k changes, every user awaiting setup) in each
// format: what the renderer holds while it writes stays far below the
// report's size (9 MB of JSON), which encoding the whole document holds
// twice over and copying the plan's changes once (10 MB).
func TestLargeReportsStream(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	reports := []reconciler.Report{firstReport(20_000, 200, 200)}
	for _, format := range Formats {
		w := newPeakWriter()
		if err := Reports(w, reports, Options{Format: format}); err != nil {
			t.Fatal(err)
		}
		w.sample()
		t.Logf("%s: %.1f MB written, %.2f MB peak live heap", format, float64(w.n)/(1<<20), float64(w.peak)/(1<<20))
		if w.n < 20*len(reports[0].Plan.Changes) { // every change is listed
			t.Errorf("%s: only %d bytes for %d changes", format, w.n, len(reports[0].Plan.Changes))
		}
		if w.peak > 1<<20 {
			t.Errorf("%s: %.1f MB live while writing, want under 1 MB", format, float64(w.peak)/(1<<20))
		}
	}
}

// BenchmarkReportLarge renders large plans: 10k and 100k provisions, and a
// first provisioning of 100k users and 1k groups of 200, every user
// awaiting setup. The loop writes to io.Discard; peak-live-MB is what one
// render holds while it writes, measured once beside it (see peakWriter).
func BenchmarkReportLarge(b *testing.B) {
	for _, size := range []struct {
		name               string
		users, groups, per int
	}{{"10k", 10_000, 100, 0}, {"100k", 100_000, 0, 0}, {"first-100k-users-1k-groups", 100_000, 1_000, 200}} {
		reports := []reconciler.Report{firstReport(size.users, size.groups, size.per)}
		for _, format := range Formats {
			b.Run(size.name+"/"+format, func(b *testing.B) {
				w := newPeakWriter()
				if err := Reports(w, reports, Options{Format: format}); err != nil {
					b.Fatal(err)
				}
				w.sample()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if err := Reports(io.Discard, reports, Options{Format: format}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(w.peak)/(1<<20), "peak-live-MB")
				b.ReportMetric(float64(w.n)/(1<<20), "out-MB")
			})
		}
	}
}
