package reconciler

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/orgsync/orgsync"
)

// Metrics are the reconciler's Prometheus metrics. A nil *Metrics records
// nothing, so tests and one-shot CLI runs may leave it out.
type Metrics struct {
	runs        *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	applied     *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	guardBlocks *prometheus.CounterVec
	readErrors  *prometheus.CounterVec
	skips       *prometheus.CounterVec

	mu   sync.Mutex
	last map[string]time.Time // lastSuccess's values
}

// NewMetrics creates the metrics and registers them with reg (none when reg
// is nil). It panics if they are already registered there.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		last: map[string]time.Time{},
		runs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "orgsync_reconcile_runs_total",
			Help: "Reconcile runs by source and result (applied, blocked, failed).",
		}, []string{"source", "result"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "orgsync_reconcile_run_duration_seconds",
			Help:    "Duration of reconcile runs, from the source read to the recorded run.",
			Buckets: []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}, []string{"source"}),
		applied: f.NewCounterVec(prometheus.CounterOpts{
			Name: "orgsync_reconcile_changes_applied_total",
			Help: "Changes the store really applied, by source and action.",
		}, []string{"source", "action"}),
		lastSuccess: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "orgsync_reconcile_last_success_timestamp_seconds",
			Help: "Unix time of the last run of a source that applied its plan.",
		}, []string{"source"}),
		guardBlocks: f.NewCounterVec(prometheus.CounterOpts{
			Name: "orgsync_reconcile_guard_blocks_total",
			Help: "Runs a guard refused, by source.",
		}, []string{"source"}),
		readErrors: f.NewCounterVec(prometheus.CounterOpts{
			Name: "orgsync_source_read_errors_total",
			Help: "Failed source reads, by source.",
		}, []string{"source"}),
		skips: f.NewCounterVec(prometheus.CounterOpts{
			Name: "orgsync_reconcile_skipped_total",
			Help: "Scheduled runs skipped, by source and reason (running, locked).",
		}, []string{"source", "reason"}),
	}
}

func (m *Metrics) observeRun(source string, result orgsync.RunResult, d time.Duration, applied *orgsync.Applied, at time.Time) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(source, string(result)).Inc()
	m.duration.WithLabelValues(source).Observe(d.Seconds())
	if applied != nil {
		for a, n := range applied.Counts {
			if n > 0 {
				m.applied.WithLabelValues(source, string(a)).Add(float64(n))
			}
		}
	}
	if result == orgsync.RunApplied {
		m.SetLastSuccess(source, at)
	}
}

// SetLastSuccess records that source last applied its plan at t, unless a
// later success is known. serve feeds it the recorded runs at start and
// then now and again, so that the gauge survives a restart and is right on
// every replica, not only on the one that ran the job.
func (m *Metrics) SetLastSuccess(source string, t time.Time) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.last[source]; ok && !t.After(prev) {
		return
	}
	m.last[source] = t
	m.lastSuccess.WithLabelValues(source).Set(float64(t.UnixNano()) / 1e9)
}

func (m *Metrics) guardBlock(source string) {
	if m != nil {
		m.guardBlocks.WithLabelValues(source).Inc()
	}
}

func (m *Metrics) sourceError(source string) {
	if m != nil {
		m.readErrors.WithLabelValues(source).Inc()
	}
}

func (m *Metrics) skip(source, reason string) {
	if m != nil {
		m.skips.WithLabelValues(source, reason).Inc()
	}
}
