package main

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/receiver"
)

// scimMetrics counts SCIM requests by endpoint, method and status, and
// times them.
type scimMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newSCIMMetrics(reg prometheus.Registerer) *scimMetrics {
	m := &scimMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgsync_scim_requests_total",
			Help: "SCIM requests answered, by endpoint (Users, Groups, discovery …), method and HTTP status.",
		}, []string{"endpoint", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "orgsync_scim_request_duration_seconds",
			Help:    "Time to answer a SCIM request, by endpoint and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// observe is the receiver's Options.OnRequest.
func (m *scimMetrics) observe(r receiver.Request) {
	m.requests.WithLabelValues(r.Endpoint, r.Method, strconv.Itoa(r.Status)).Inc()
	m.latency.WithLabelValues(r.Endpoint, r.Method).Observe(r.Duration.Seconds())
}

// tokenLister is what the token collector reads.
type tokenLister interface {
	Tokens(ctx context.Context, org string) ([]orgsync.Token, error)
}

// tokenCollector exports when each usable SCIM token expires, so an alert
// can fire before an IdP's provisioning stops.
type tokenCollector struct {
	st   tokenLister
	log  zerolog.Logger
	now  func() time.Time
	desc *prometheus.Desc
}

func newTokenCollector(st tokenLister, log zerolog.Logger) *tokenCollector {
	return &tokenCollector{st: st, log: log, now: time.Now,
		desc: prometheus.NewDesc("orgsync_scim_token_expiry_timestamp_seconds",
			"When each SCIM token that is neither revoked nor expired expires (Unix time); tokens without expiry are not listed.",
			[]string{"org", "token_id", "description"}, nil)}
}

func (c *tokenCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *tokenCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tokens, err := c.st.Tokens(ctx, "")
	if err != nil {
		c.log.Warn().Err(err).Msg("metrics: tokens not read")
		return
	}
	now := c.now()
	for _, t := range tokens {
		if t.RevokedAt != nil || t.ExpiresAt == nil || !t.ExpiresAt.After(now) {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(t.ExpiresAt.Unix()), t.Org, t.ID, t.Description)
	}
}
