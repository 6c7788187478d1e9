package main

import (
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/registry"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/sources/ldap"
	"github.com/orgsync/orgsync/sources/scim"
)

// SourceConfig is one pull source: the fields every type shares, and the
// block of its type (see sourceTypes).
type SourceConfig struct {
	Name     string                 `yaml:"name"`
	Org      string                 `yaml:"org"`
	Type     string                 `yaml:"type"`
	Schedule string                 `yaml:"schedule"`
	Timeout  orgsync.Duration       `yaml:"timeout"`
	Guard    reconciler.GuardConfig `yaml:"guard"`
	// FullEvery is how often a source that can read incrementally is read
	// in full all the same (the safety net).
	FullEvery orgsync.Duration `yaml:"full_every"`
	// RecreatedEntries: see reconciler.RecreatedEntries (off by default).
	RecreatedEntries reconciler.RecreatedEntries `yaml:"recreated_entries"`
	LDAP             *ldap.Config                `yaml:"ldap,omitempty"`
	SCIM             *scim.Config                `yaml:"scim,omitempty"`
}

// sourceTypes is every source type, the one place that knows them: their
// defaults, validation and opening go through it (see internal/registry
// for adding one).
var sourceTypes = registry.New[SourceConfig, reconciler.Source]("source")

func init() {
	sourceTypes.Register("ldap", registry.Type[SourceConfig, reconciler.Source]{
		Block: func(s *SourceConfig) registry.Block { return registry.Optional(s.LDAP) },
		Open: func(s *SourceConfig, log zerolog.Logger) (reconciler.Source, error) {
			return s.LDAP.Open(s.Name, log)
		},
	})
	sourceTypes.Register("scim", registry.Type[SourceConfig, reconciler.Source]{
		Block: func(s *SourceConfig) registry.Block { return registry.Optional(s.SCIM) },
		Open: func(s *SourceConfig, log zerolog.Logger) (reconciler.Source, error) {
			return s.SCIM.Open(s.Name, log)
		},
	})
}

// defaultSourceTimeout bounds one read of a source.
const defaultSourceTimeout = 30 * time.Minute

func (s *SourceConfig) setDefaults() {
	s.Guard.SetDefaults()
	if s.Timeout == 0 {
		s.Timeout = orgsync.Duration(defaultSourceTimeout)
	}
	if s.FullEvery == 0 {
		s.FullEvery = orgsync.Duration(reconciler.DefaultFullEvery)
	}
	sourceTypes.SetDefaults(s.Type, s)
}

// key is how problems name the source: sources[i], with its name if any.
func (s *SourceConfig) key(i int) string {
	if s.Name != "" {
		return fmt.Sprintf("sources[%d] (%s)", i, s.Name)
	}
	return fmt.Sprintf("sources[%d]", i)
}

// validateSources lists every problem of the sources; orgs are the
// configured org ids.
func validateSources(sources []SourceConfig, orgs map[string]bool) []error {
	var errs []error
	names := map[string]bool{}
	for i := range sources {
		s := &sources[i]
		p := s.key(i) + ": "
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf(p+format, args...))
		}
		switch {
		case !idPattern.MatchString(s.Name):
			bad("name: %q must be lower-case letters, digits, '.', '_' or '-'", s.Name)
		case orgsync.ReservedOwner(s.Name):
			bad("name: %q is reserved (the SCIM receiver and the purge own it)", s.Name)
		case names[s.Name]:
			bad("name: %q is used twice", s.Name)
		}
		names[s.Name] = true
		if !orgs[s.Org] {
			bad("org: %q is not one of the orgs", s.Org)
		}
		if s.Schedule != "" {
			for _, e := range flatten(reconciler.ValidateSchedule(s.Schedule)) {
				bad("schedule: %s", e)
			}
		}
		if s.Timeout <= 0 {
			bad("timeout: must be positive")
		}
		if s.FullEvery <= 0 {
			bad("full_every: must be positive")
		}
		for _, e := range flatten(s.Guard.Validate()) {
			bad("%s", e)
		}
		for _, e := range flatten(s.RecreatedEntries.Validate()) {
			bad("%s", e)
		}
		for _, e := range flatten(sourceTypes.Validate(s.Type, s)) {
			bad("%s", e)
		}
	}
	return errs
}
