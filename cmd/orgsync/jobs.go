package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/sources/ldap"
	"github.com/orgsync/orgsync/sources/scim"
)

// sourceFactories builds a source from its config block: the only place
// that knows every source type.
var sourceFactories = map[string]func(c SourceConfig, log zerolog.Logger) (reconciler.Source, error){
	"ldap": func(c SourceConfig, log zerolog.Logger) (reconciler.Source, error) {
		return ldap.New(c.Name, *c.LDAP, log)
	},
	"scim": func(c SourceConfig, log zerolog.Logger) (reconciler.Source, error) {
		return scim.New(c.Name, *c.SCIM, log)
	},
}

// applyAllowance is how long a scheduled run has, after its source read
// (bounded by the source's timeout), to diff, guard and apply.
const applyAllowance = 30 * time.Minute

// timedSource bounds one source read by the source's timeout.
type timedSource struct {
	reconciler.Source
	timeout time.Duration
}

func (t timedSource) Snapshot(ctx context.Context) (orgsync.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	return t.Source.Snapshot(ctx)
}

func (t timedSource) OnProgress(f func(orgsync.Progress)) {
	if p, ok := t.Source.(reconciler.Progresser); ok {
		p.OnProgress(f)
	}
}

// timedIncremental is a timedSource of a source that reads incrementally.
type timedIncremental struct{ timedSource }

func (t timedIncremental) SnapshotFrom(ctx context.Context, req reconciler.ReadRequest) (orgsync.Snapshot, orgsync.Cursor, orgsync.Read, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	return t.Source.(reconciler.Incremental).SnapshotFrom(ctx, req)
}

// jobs builds the reconcile job of every source, or of the one named.
func (a *app) jobs(only string) ([]reconciler.Job, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	var out []reconciler.Job
	for _, sc := range cfg.Sources {
		if only != "" && sc.Name != only {
			continue
		}
		// The source names itself in its log lines (a second "source"
		// key here would repeat the key in every JSON line).
		src, err := sourceFactories[sc.Type](sc, a.log)
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", sc.Name, err)
		}
		org, _ := cfg.Org(sc.Org)
		var timed reconciler.Source = timedSource{Source: src, timeout: sc.Timeout.D()}
		if _, ok := src.(reconciler.Incremental); ok {
			timed = timedIncremental{timedSource{Source: src, timeout: sc.Timeout.D()}}
		}
		out = append(out, reconciler.Job{Name: sc.Name, Org: sc.Org, DefaultRole: org.DefaultRole, Guard: sc.Guard,
			Source: timed, Timeout: sc.Timeout.D() + applyAllowance, FullEvery: sc.FullEvery.D()})
	}
	if only != "" && len(out) == 0 {
		return nil, fmt.Errorf("--source %q: no such source in the config (%s): %w", only, cfg.sourceNames(), orgsync.ErrNotFound)
	}
	return out, nil
}

func (a *app) purgeJobs() []reconciler.PurgeJob {
	var out []reconciler.PurgeJob
	for _, o := range a.cfg.Orgs {
		out = append(out, reconciler.PurgeJob{Org: o.ID, After: o.PurgeAfter.D(), Limit: o.PurgeLimit})
	}
	return out
}
