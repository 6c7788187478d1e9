package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/buildinfo"
	"github.com/orgsync/orgsync/notify"
	"github.com/orgsync/orgsync/reconciler/render"
	"github.com/orgsync/orgsync/store"
)

// exitError carries a process exit code other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitWith wraps err so that the process exits with code.
func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

// app is what every command shares: streams, the config flag, and lazily
// the loaded config and the opened store.
type app struct {
	stdout, stderr io.Writer
	configPath     string
	noColor        bool
	// candidates replaces configCandidates (tests); choice is what
	// discoverConfig picked.
	candidates []string
	choice     configChoice
	cfg        *Loaded
	st         *store.Store
	notifier   *notify.Notifier
	prog       *progress
	// writes is set for the commands that change the store (see
	// writingCommands): only they may upgrade its schema; noMigrate is
	// serve --no-migrate.
	writes, noMigrate bool
	// allSecrets is set for the commands that check every secret as the
	// config is loaded (allSecretsCommands); the others read theirs on use.
	allSecrets bool
	log        zerolog.Logger
}

// run executes the CLI and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(terraformFlags(args))
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if a.notifier != nil {
		nctx, cancel := context.WithTimeout(context.Background(), notifyCloseTimeout)
		a.notifier.Close(nctx)
		cancel()
	}
	if a.st != nil {
		a.st.Close()
	}
	if err == nil {
		return 0
	}
	var ee *exitError
	code := 1
	if errors.As(err, &ee) {
		code = ee.code
	}
	if err.Error() != "" {
		// Errors can quote what a directory or an IdP sent: no escape
		// sequence reaches the terminal.
		fmt.Fprintln(stderr, "orgsync:", strings.ReplaceAll(render.SafeLines(err.Error()), "\n", "\n  "))
	}
	return code
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "orgsync",
		Short:         "Keep a KMS org's members in line with the company directory (SCIM push, LDAP/SCIM pull)",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildinfo.Get().String(),
	}
	root.SetVersionTemplate("orgsync {{.Version}}\n")
	root.PersistentFlags().BoolVar(&a.noColor, "no-color", false, "never colour the output (also when $NO_COLOR is set)")
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "config file (default: $ORGSYNC_CONFIG, ./orgsync.yaml, /etc/orgsync/orgsync.yaml, else built-in defaults)")
	root.AddCommand(a.serveCommand(), a.configCommand(), a.tokensCommand(), a.membersCommand(), a.sourcesCommand(), a.versionCommand())
	root.AddCommand(a.healthcheckCommand())
	root.AddCommand(a.runsCommand(), a.eventsCommand(), a.migrateCommand(), a.statusCommand())
	for _, c := range a.reconcileCommands() {
		root.AddCommand(c)
	}
	a.registerCompletions(root)
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) {
		a.writes = writingCommands[strings.TrimPrefix(cmd.CommandPath(), "orgsync ")]
		a.allSecrets = allSecretsCommands[strings.TrimPrefix(cmd.CommandPath(), "orgsync ")]
	}
	return root
}

// writingCommands are the commands that change the store. They create or
// upgrade its schema; every other command only creates a new database's,
// and refuses to upgrade an existing one (`orgsync migrate` does).
var writingCommands = map[string]bool{
	"serve": true, "reconcile": true, "purge": true, "migrate": true,
	"tokens create": true, "tokens revoke": true, "members complete-setup": true, "members rekey": true, "sources rename": true, "runs approve": true,
}

// config loads and validates the config once.
func (a *app) config() (*Loaded, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	candidates := a.candidates
	if candidates == nil {
		candidates = configCandidates
	}
	a.choice = discoverConfig(a.configPath, os.Getenv("ORGSYNC_CONFIG"), candidates)
	cfg, err := loadConfig(a.choice.Path, a.choice.Explicit, a.allSecrets)
	if err != nil {
		if a.choice.Path != "" {
			return nil, fmt.Errorf("invalid config %s (%s):\n%w", a.choice.Path, a.choice.From, err)
		}
		return nil, fmt.Errorf("invalid config:\n%w", err)
	}
	a.cfg = cfg
	a.log = newLogger(cfg.Log, a.progress(), isTerminal(a.stderr), a.color(a.stderr))
	if cfg.Path != "" {
		a.log.Info().Str("file", cfg.Path).Str("from", a.choice.From).Msg("config")
	} else {
		a.log.Info().Msg("config: built-in defaults (no --config, $ORGSYNC_CONFIG, ./orgsync.yaml or /etc/orgsync/orgsync.yaml)")
	}
	for _, w := range cfg.Warnings {
		a.log.Warn().Msg(w)
	}
	return cfg, nil
}

// store opens the database once and makes sure the configured orgs exist.
func (a *app) store(ctx context.Context) (*store.Store, error) {
	if a.st != nil {
		return a.st, nil
	}
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	if err := cfg.requireSecrets("database"); err != nil {
		return nil, err
	}
	if f := cfg.Database.SQLiteFile(); f != "" && len(a.choice.Others) > 0 {
		if _, err := os.Stat(f); errors.Is(err, fs.ErrNotExist) {
			a.log.Warn().Str("database", f).Strs("other_configs", a.choice.Others).
				Msg("creating a new database, yet other config files exist: pass --config to use one of them")
		}
	}
	up := store.UpgradeNew
	switch {
	case a.noMigrate:
		up = store.UpgradeNever
	case a.writes:
		up = store.UpgradeAlways
	}
	st, err := store.OpenWith(ctx, cfg.Database, a.log, up)
	if err != nil {
		return nil, err
	}
	if err := st.EnsureOrgs(ctx, cfg.domainOrgs()); err != nil {
		st.Close()
		return nil, err
	}
	a.st = st
	return st, nil
}

// textOrJSON checks a --format of text or json, then loads the config and
// opens the store: the start of every listing command.
func (a *app) textOrJSON(ctx context.Context, format string) (*Loaded, *store.Store, error) {
	if err := checkFormat(format, "text", "json"); err != nil {
		return nil, nil, err
	}
	cfg, err := a.config()
	if err != nil {
		return nil, nil, err
	}
	st, err := a.store(ctx)
	return cfg, st, err
}

// orgFlag resolves --org: required unless the config has exactly one org.
func (a *app) orgFlag(org string) (string, error) {
	cfg, err := a.config()
	if err != nil {
		return "", err
	}
	if org == "" {
		if len(cfg.Orgs) == 1 {
			return cfg.Orgs[0].ID, nil
		}
		return "", errors.New("--org is required: the config has several orgs")
	}
	if _, ok := cfg.Org(org); !ok {
		return "", fmt.Errorf("org %q is not in the config (%s): %w", org, cfg.orgNames(), orgsync.ErrNotFound)
	}
	return org, nil
}

// newLogger builds the zerolog logger: console on a terminal, JSON
// otherwise, unless the config says which.
// useColor says whether output to a terminal (or not) may be coloured:
// never with --no-color or a non-empty $NO_COLOR (no-color.org).
func useColor(terminal, noColorFlag bool, noColorEnv string) bool {
	return terminal && !noColorFlag && noColorEnv == ""
}

// color says whether w, a terminal or not, may be coloured.
func (a *app) color(w io.Writer) bool {
	return useColor(isTerminal(w), a.noColor, os.Getenv("NO_COLOR"))
}

// newLogger logs to w; terminal says whether w ends at a terminal (auto
// format: console there, JSON elsewhere).
func newLogger(c LogConfig, w io.Writer, terminal, color bool) zerolog.Logger {
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil {
		level = zerolog.InfoLevel
	}
	console := c.Format == "console" || (c.Format == "auto" && terminal)
	if console {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05", NoColor: !color}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
