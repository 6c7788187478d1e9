package main

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
)

// memberCountsTTL is how long one count of the members serves scrapes: a
// count reads every member row, and scrapes (several Prometheus servers,
// or a short interval) must not read the whole table each time.
const memberCountsTTL = 15 * time.Second

// memberCounter is what the collector reads of the store.
type memberCounter interface {
	Orgs(ctx context.Context) ([]string, error)
	StatusCounts(ctx context.Context) (map[string]map[orgsync.Status]int, error)
}

// memberCollector exports members by org and status, so members awaiting
// master-key creation (pending_setup) show on dashboards. The counts are
// at most memberCountsTTL old; scrapes arriving together share one count.
type memberCollector struct {
	st   memberCounter
	log  zerolog.Logger
	now  func() time.Time
	desc *prometheus.Desc
	up   *prometheus.Desc

	mu     sync.Mutex
	at     time.Time // of the cached count; zero: none
	orgs   []string
	counts map[string]map[orgsync.Status]int
}

func newMemberCollector(st memberCounter, log zerolog.Logger) *memberCollector {
	return &memberCollector{st: st, log: log, now: time.Now,
		desc: prometheus.NewDesc("orgsync_members", "Members by org and status; pending_setup members have not created their master key yet. Counted at most every 15s.",
			[]string{"org", "status"}, nil),
		up: prometheus.NewDesc("orgsync_store_up", "1 when the last count of the members could read the store.", nil, nil),
	}
}

func (c *memberCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc; ch <- c.up }

// load returns the cached counts, counting again when they are older than
// memberCountsTTL. A failed count is not cached: the next scrape retries.
func (c *memberCollector) load() ([]string, map[string]map[orgsync.Status]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && c.now().Sub(c.at) < memberCountsTTL {
		return c.orgs, c.counts, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	orgs, err := c.st.Orgs(ctx)
	var counts map[string]map[orgsync.Status]int
	if err == nil {
		counts, err = c.st.StatusCounts(ctx)
	}
	if err != nil {
		c.at = time.Time{}
		return nil, nil, err
	}
	c.at, c.orgs, c.counts = c.now(), orgs, counts
	return orgs, counts, nil
}

func (c *memberCollector) Collect(ch chan<- prometheus.Metric) {
	orgs, counts, err := c.load()
	if err != nil {
		c.log.Warn().Err(err).Msg("metrics: cannot count members")
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, org := range orgs {
		for _, s := range orgsync.Statuses {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[org][s]), org, string(s))
		}
	}
}
