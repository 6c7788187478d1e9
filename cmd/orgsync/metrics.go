package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// memberCollector exports members by org and status at scrape time, so
// members awaiting master-key creation (pending_setup) show on dashboards.
type memberCollector struct {
	st   *store.Store
	log  zerolog.Logger
	desc *prometheus.Desc
	up   *prometheus.Desc
}

func newMemberCollector(st *store.Store, log zerolog.Logger) *memberCollector {
	return &memberCollector{st: st, log: log,
		desc: prometheus.NewDesc("orgsync_members", "Members by org and status; pending_setup members have not created their master key yet.",
			[]string{"org", "status"}, nil),
		up: prometheus.NewDesc("orgsync_store_up", "1 when the last scrape could read the store.", nil, nil),
	}
}

func (c *memberCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc; ch <- c.up }

func (c *memberCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	orgs, err := c.st.Orgs(ctx)
	var counts map[string]map[orgsync.Status]int
	if err == nil {
		counts, err = c.st.StatusCounts(ctx)
	}
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
