package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/buildinfo"
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
	cfg            *Loaded
	st             *store.Store
	log            zerolog.Logger
}

// run executes the CLI and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
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
		fmt.Fprintln(stderr, "orgsync:", strings.ReplaceAll(err.Error(), "\n", "\n  "))
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
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "config file (default: orgsync.yaml if present, else built-in defaults)")
	root.AddCommand(a.serveCommand(), a.configCommand(), a.tokensCommand(), a.membersCommand(), a.versionCommand())
	root.AddCommand(a.healthcheckCommand())
	for _, c := range a.reconcileCommands() {
		root.AddCommand(c)
	}
	return root
}

// config loads and validates the config once.
func (a *app) config() (*Loaded, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	cfg, err := LoadConfig(a.configPath, a.configPath != "")
	if err != nil {
		return nil, fmt.Errorf("invalid config:\n%w", err)
	}
	a.cfg = cfg
	a.log = newLogger(cfg.Log, a.stderr)
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
	st, err := store.Open(ctx, cfg.Database, a.log)
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
		return "", fmt.Errorf("org %q is not in the config: %w", org, orgsync.ErrNotFound)
	}
	return org, nil
}

// newLogger builds the zerolog logger: console on a terminal, JSON
// otherwise, unless the config says which.
func newLogger(c LogConfig, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil {
		level = zerolog.InfoLevel
	}
	console := c.Format == "console" || (c.Format == "auto" && isTerminal(w))
	if console {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05", NoColor: !isTerminal(w)}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
