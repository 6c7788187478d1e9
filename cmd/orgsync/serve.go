package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/orgsync/orgsync/admin"
	"github.com/orgsync/orgsync/internal/connlimit"
	"github.com/orgsync/orgsync/internal/gcfloor"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/store"
)

func (a *app) serveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the SCIM receiver, the scheduler, the admin API and /metrics",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), nil)
		},
	}
	cmd.Flags().BoolVar(&a.noMigrate, "no-migrate", false, "refuse a database whose schema is not this build's instead of upgrading it (run orgsync migrate)")
	return cmd
}

// serveHeapFloor is the heap goal the daemon's GC keeps while its live
// heap is small (package gcfloor; $GOGC overrides it): at the runtime's
// 4 MiB it collected some 45 times a second under an IdP's lookups.
const serveHeapFloor = 32 << 20

// serve runs the daemon until ctx is cancelled (SIGINT/SIGTERM). When ready
// is not nil it receives the listening address once the server accepts.
func (a *app) serve(ctx context.Context, ready chan<- string) error {
	a.allSecrets = true // serve uses them all: each is checked as the config loads
	cfg, err := a.config()
	if err != nil {
		return err
	}
	defer gcfloor.Start(serveHeapFloor)()
	st, err := a.store(ctx)
	if err != nil {
		return err
	}
	log := a.log
	adminToken, err := cfg.Server.adminToken() // checked as the config was loaded (allSecretsCommands)
	if err != nil {
		return err
	}
	if adminToken == "" {
		log.Warn().Msg("no server.admin_token set: the admin API (/api/v1 members, runs, events) refuses every request")
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newMemberCollector(st, log), newTokenCollector(st, log))
	runStore, err := a.runStore(ctx, st)
	if err != nil {
		return err
	}
	runner := &reconciler.Runner{Store: runStore, Logger: log, Metrics: reconciler.NewMetrics(reg)}
	// The first read is done before serve answers, so a scrape right after
	// start-up already sees the restored gauge; later reads run behind.
	refreshLastSuccess(ctx, st, runner.Metrics, log)
	go restoreLastSuccess(ctx, st, runner.Metrics, log)
	go pruneHistory(ctx, st, cfg.Database.Retention, log)

	jobs, err := a.jobs("")
	if err != nil {
		return err
	}
	keepDecodedStates(jobs)
	var locker reconciler.Locker
	if st.Driver() == store.DriverPostgres {
		locker = st // of several replicas, only one runs each job
	}
	sched := reconciler.NewScheduler(runner, locker, 0, log)
	for _, j := range jobs {
		if j.Schedule != "" {
			if err := sched.AddSource(j.Schedule, j.Job); err != nil {
				return fmt.Errorf("%s: schedule: %w", j.key, err)
			}
		}
	}
	for _, pj := range a.purgeJobs() {
		if pj.After > 0 {
			if err := sched.AddPurge(reconciler.PurgeSchedule, pj); err != nil {
				return err
			}
		}
	}
	if err := a.scheduleTargets(ctx, sched, runner, reg); err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			http.Error(w, "store unreachable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	trusted := cfg.Server.trustedProxies()
	mux.Handle("/api/v1/", admin.New(scopedAdmin{store.AdminView{Store: st}, cfg.configuredOrgs()}, adminToken, log, admin.Options{ClientAddr: clientAddr(trusted),
		Approve: approver{st: st, runner: runner, jobs: a.jobs}.approveRun}))
	mountSCIM(mux, st, cfg, log, newSCIMMetrics(reg).observe)

	srv := &http.Server{
		Addr:              cfg.Server.Listen,
		Handler:           mux,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout.TimeDuration(),
		ReadTimeout:       cfg.Server.ReadTimeout.TimeDuration(),
		WriteTimeout:      cfg.Server.WriteTimeout.TimeDuration(),
		IdleTimeout:       cfg.Server.IdleTimeout.TimeDuration(),
		MaxHeaderBytes:    64 << 10,
	}
	raw, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("server.listen: %w", err)
	}
	ln := a.limitConnections(raw, trusted)
	srv.ConnState = ln.ConnState
	a.announceTokens(ctx, st)
	a.warnOrphans(ctx, st)
	log.Info().Str("listen", ln.Addr().String()).Str("scim_url", cfg.Server.PublicURL+"/scim/v2").
		Str("database", st.Driver()).Int("sources", len(jobs)).Msg("orgsync serving")
	// The hang-up handler is in place before anyone is told serve is up:
	// a SIGHUP right after start-up must not end the process.
	stopHUP := ignoreHangups(log)
	defer stopHUP()
	if ready != nil {
		ready <- ln.Addr().String()
	}

	sched.Start(ctx)
	errc := make(chan error, 1)
	go func() {
		if cfg.Server.TLSCertFile != "" {
			errc <- srv.ServeTLS(ln, cfg.Server.TLSCertFile, cfg.Server.TLSKeyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		sched.Stop()
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down: finishing requests and running jobs")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout.TimeDuration())
	defer cancel()
	err = srv.Shutdown(sctx)
	sched.Stop()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info().Msg("stopped")
	return nil
}

// limitConnections bounds the connections serve holds (see package
// connlimit), within what the process's file descriptor limit leaves for
// the database, sources and logs.
func (a *app) limitConnections(ln net.Listener, trusted []netip.Prefix) *connlimit.Listener {
	s := a.cfg.Server
	total := s.MaxConnections
	if fds := openFileLimit(); fds > 0 && total > fds-fdReserve {
		total = max(16, fds-fdReserve)
		a.log.Warn().Int("max_connections", s.MaxConnections).Int("open_file_limit", fds).Int("using", total).
			Msg("server.max_connections is more than the open file limit leaves; raise the limit (ulimit -n, LimitNOFILE=) or lower the setting")
	}
	return connlimit.New(ln, connlimit.Limits{Total: total, PerClient: min(s.MaxConnectionsPerClient, total),
		Exempt: func(ip netip.Addr) bool {
			for _, p := range trusted {
				if p.Contains(ip) {
					return true
				}
			}
			return false
		}}, a.log.With().Str("component", "http").Logger())
}

// fdReserve is how many file descriptors are left for other than client
// connections: database, sources, log files.
const fdReserve = 64

// announceTokens tells the operator how to connect an IdP to each org that
// has no usable SCIM token yet.
func (a *app) announceTokens(ctx context.Context, st *store.Store) {
	now := time.Now()
	for _, o := range a.cfg.Orgs {
		tokens, err := st.Tokens(ctx, o.ID)
		if err != nil {
			return
		}
		usable := false
		for _, t := range tokens {
			usable = usable || tokenState(t, now) == "valid"
		}
		if !usable {
			a.log.Info().Str("org", o.ID).Msgf("no SCIM token for org %q yet: mint one with `orgsync tokens create --org %s` and paste it with the SCIM URL %s/scim/v2 into your IdP",
				o.ID, o.ID, a.cfg.Server.PublicURL)
		}
	}
}

// ignoreHangups keeps SIGHUP (a closed terminal, `systemctl reload`) from
// ending the daemon: it is logged and ignored, as the config is read only
// at start. It returns the function that restores the default.
func ignoreHangups(log zerolog.Logger) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				log.Warn().Msg("SIGHUP ignored: serve reads its config only at start; restart it to apply a changed config")
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}

// lastSuccessEvery is how often serve reads the last successful runs back
// from the store into its metrics.
const lastSuccessEvery = 30 * time.Second

// restoreLastSuccess feeds the recorded runs' last successes to m at start
// and every lastSuccessEvery until ctx ends: after a restart the gauge is
// not empty, and on a replica that did not run a job it still moves.
func restoreLastSuccess(ctx context.Context, st *store.Store, m *reconciler.Metrics, log zerolog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(lastSuccessEvery):
		}
		refreshLastSuccess(ctx, st, m, log)
	}
}

// refreshLastSuccess reads the recorded runs' last successes into m once.
func refreshLastSuccess(ctx context.Context, st *store.Store, m *reconciler.Metrics, log zerolog.Logger) {
	last, err := st.LastSuccess(ctx)
	if err != nil && ctx.Err() == nil {
		log.Warn().Err(err).Msg("metrics: the last successful runs were not read")
	}
	for src, at := range last {
		m.SetLastSuccess(src, at)
	}
}

// pruneEvery is how often serve prunes old runs and events.
const pruneEvery = 24 * time.Hour

// pruneHistory deletes runs and events past their retention at start and
// then daily, until ctx ends. On several replicas each prunes: the deletes
// are the same.
func pruneHistory(ctx context.Context, st *store.Store, r store.Retention, log zerolog.Logger) {
	for {
		now := time.Now()
		var runs, events time.Time
		if r.Runs > 0 {
			runs = now.Add(-r.Runs.TimeDuration())
		}
		if r.Events > 0 {
			events = now.Add(-r.Events.TimeDuration())
		}
		if !runs.IsZero() || !events.IsZero() {
			p, err := st.Prune(ctx, runs, events)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn().Err(err).Msg("retention: old runs and events were not pruned; retrying tomorrow")
			case p.Runs+p.Events > 0:
				log.Info().Int64("runs", p.Runs).Int64("events", p.Events).Msg("retention: pruned old runs and events")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pruneEvery):
		}
	}
}
