package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/store"
	"github.com/orgsync/orgsync/targets"
)

// setTargetDefaults fills the defaults of every target block.
func (c *Config) setTargetDefaults() {
	for i := range c.Targets {
		targetTypes.SetDefaults(c.Targets[i].Type, &c.Targets[i])
	}
}

// validateTargets lists the problems of the targets: each block's own,
// and names that are unique among sources and targets (runs, metrics and
// locks are keyed by them) and orgs that exist.
func (c *Config) validateTargets(orgs map[string]bool) []error {
	var errs []error
	names := map[string]bool{}
	for _, s := range c.Sources {
		names[s.Name] = true
	}
	for i := range c.Targets {
		t := &c.Targets[i]
		p := targetKey(i, t.Name) + ": "
		switch {
		case !idPattern.MatchString(t.Name):
			errs = append(errs, fmt.Errorf("%sname: %q must be lower-case letters, digits, '.', '_' or '-'", p, t.Name))
		case orgsync.ReservedOwner(t.Name):
			errs = append(errs, fmt.Errorf("%sname: %q is reserved (the SCIM receiver and the purge own it)", p, t.Name))
		case names[t.Name]:
			errs = append(errs, fmt.Errorf("%sname: %q is used twice (sources and targets share names)", p, t.Name))
		}
		names[t.Name] = true
		if !orgs[t.Org] {
			errs = append(errs, fmt.Errorf("%sorg: %q is not one of the orgs", p, t.Org))
		}
		if err := targetTypes.Validate(t.Type, t); err != nil {
			for _, e := range flatten(err) {
				errs = append(errs, fmt.Errorf("%s%s", p, e))
			}
		}
	}
	return errs
}

func targetKey(i int, name string) string {
	if name == "" {
		return fmt.Sprintf("targets[%d]", i)
	}
	return fmt.Sprintf("targets[%d] (%s)", i, name)
}

// checkTargetSecrets reads every target's secrets (serve and config
// validate), skipping the targets whose problems are listed already.
func (l *Loaded) checkTargetSecrets() []error {
	var errs []error
	for i := range l.Targets {
		t := &l.Targets[i]
		if l.requireSecrets(fmt.Sprintf("targets[%d]", i)) != nil || t.Validate() != nil {
			continue
		}
		if _, _, err := t.Secrets(); err != nil {
			for _, e := range flatten(err) {
				errs = append(errs, fmt.Errorf("%s: %w", targetKey(i, t.Name), e))
			}
		}
	}
	return errs
}

// scheduledTargetJobs is how many scheduled jobs the targets add (runs and
// setup read-backs), for the connection pool check.
func (c *Config) scheduledTargetJobs() int {
	n := 0
	for _, t := range c.Targets {
		if t.Schedule != "" {
			n++
		}
		if t.SetupStatus != nil && t.SetupStatus.Schedule != "" {
			n++
		}
	}
	return n
}

func (l *Loaded) targetNames() string {
	var names []string
	for _, t := range l.Targets {
		names = append(names, t.Name)
	}
	if len(names) == 0 {
		return "it has no targets"
	}
	return "targets: " + strings.Join(names, ", ")
}

// targetStore is the store a target works on, recording its runs through
// the run store (notifications). The run store is opened with the first
// record: a dry run needs no webhook secrets.
type targetStore struct {
	*store.Store
	a *app
}

func (s targetStore) RecordRun(ctx context.Context, r orgsync.Run) (int64, error) {
	runs, err := s.a.runStore(ctx, s.Store)
	if err != nil {
		return 0, err
	}
	return runs.RecordRun(ctx, r)
}

// targets opens every target, or the one named.
func (a *app) targets(ctx context.Context, only string) ([]*targets.Target, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	st, err := a.store(ctx)
	if err != nil {
		return nil, err
	}
	var out []*targets.Target
	for i := range cfg.Targets {
		tc := &cfg.Targets[i]
		if only != "" && tc.Name != only {
			continue
		}
		if err := cfg.requireSecrets(fmt.Sprintf("targets[%d]", i)); err != nil {
			return nil, err
		}
		open, err := targetTypes.Open(tc.Type, tc, a.log)
		var t *targets.Target
		if err == nil {
			t, err = open(targetStore{Store: st, a: a})
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", targetKey(i, tc.Name), err)
		}
		out = append(out, t)
	}
	if only != "" && len(out) == 0 {
		return nil, fmt.Errorf("--target %q: no such target in the config (%s): %w", only, cfg.targetNames(), orgsync.ErrNotFound)
	}
	return out, nil
}

// scheduleTargets adds each target's runs and setup read-backs to sched,
// with the scheduler's lock and claim per occurrence on PostgreSQL.
func (a *app) scheduleTargets(ctx context.Context, sched *reconciler.Scheduler, base *reconciler.Runner, reg prometheus.Registerer) error {
	ts, err := a.targets(ctx, "")
	if err != nil {
		return err
	}
	m := newTargetMetrics(reg)
	for _, t := range ts {
		m.watch(t)
		if t.Schedule != "" {
			err := sched.AddFunc(t.Schedule, "target:"+t.Name, t.Name, t.Timeout+applyAllowance, func(ctx context.Context) {
				_, _ = t.Run(ctx, base, t.Guard, false) // the runner logs, records and counts it
			})
			if err != nil {
				return fmt.Errorf("target %s: schedule: %w", t.Name, err)
			}
		}
		if t.SetupSchedule != "" {
			err := sched.AddFunc(t.SetupSchedule, "target-setup:"+t.Name, t.Name+":setup", 5*time.Minute, func(ctx context.Context) {
				if _, err := t.SyncSetup(ctx); err != nil {
					t.Log.Error().Err(err).Msg("setup-status read-back failed")
				}
			})
			if err != nil {
				return fmt.Errorf("target %s: setup_status.schedule: %w", t.Name, err)
			}
		}
	}
	return nil
}

// targetMetrics are the per-target series beyond the run metrics (which
// the runner keeps under the target's name).
type targetMetrics struct {
	done     *prometheus.CounterVec
	setupErr *prometheus.CounterVec
	reg      prometheus.Registerer
}

func newTargetMetrics(reg prometheus.Registerer) *targetMetrics {
	m := &targetMetrics{reg: reg,
		done: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "orgsync_target_setup_completed_total",
			Help: "Members made active because the target reported their account setup done."}, []string{"target"}),
		setupErr: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "orgsync_target_setup_errors_total",
			Help: "Setup-status read-backs that failed."}, []string{"target"}),
	}
	reg.MustRegister(m.done, m.setupErr)
	return m
}

func (m *targetMetrics) watch(t *targets.Target) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "orgsync_target_requests_total",
		Help: "HTTP requests sent to the target's SCIM API, retries included.", ConstLabels: prometheus.Labels{"target": t.Name}},
		func() float64 { return float64(t.Client.Requests()) }))
	m.done.WithLabelValues(t.Name)
	m.setupErr.WithLabelValues(t.Name)
	t.OnSetup = func(n int, err error) { m.setup(t.Name, n, err) }
}

func (m *targetMetrics) setup(name string, n int, err error) {
	m.done.WithLabelValues(name).Add(float64(n))
	if err != nil {
		m.setupErr.WithLabelValues(name).Inc()
	}
}

// errNoTargets is the error of a --target command on a config without one.
var errNoTargets = errors.New("the config has no targets")
