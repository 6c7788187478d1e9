package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/buildinfo"
	"github.com/orgsync/orgsync/reconciler"
)

// A plan file is what `orgsync plan -out FILE` saves and `orgsync
// reconcile FILE` applies: one source's plan, as terraform saves plans, with
// the digests of what it was computed from (docs/formats.md, "Plan file").
const (
	planFileFormat  = "orgsync-plan"
	planFileVersion = 1
	// exitStale is the exit code of `reconcile FILE` for a plan the source
	// or the org no longer match.
	exitStale = 5
)

type planFile struct {
	Format         string             `json:"format"`
	FormatVersion  int                `json:"format_version"`
	OrgsyncVersion string             `json:"orgsync_version"`
	CreatedAt      time.Time          `json:"created_at"`
	Org            string             `json:"org"`
	Source         string             `json:"source"`
	Digest         orgsync.Digest     `json:"digest"`
	Overrides      planOverrides      `json:"overrides"`
	Guard          orgsync.Decision   `json:"guard"`
	Summary        map[string]int     `json:"summary"`
	Changes        []fileChange       `json:"changes"`
	Conflicts      []orgsync.Conflict `json:"conflicts,omitempty"`
	Warnings       []string           `json:"warnings,omitempty"`
}

// planOverrides are the guard overrides the plan was computed with
// (`plan --allow-empty`, `plan --max-deprovision N`); reconcile FILE
// applies the plan under the same ones.
type planOverrides struct {
	AllowEmpty     bool `json:"allow_empty,omitempty"`
	MaxDeprovision *int `json:"max_deprovision,omitempty"`
}

func (o planOverrides) maxDeprovision() int {
	if o.MaxDeprovision == nil {
		return -1
	}
	return *o.MaxDeprovision
}

// fileChange is a change with the member or group it sets, which the
// report leaves out: the file holds the whole plan, so that its digest can
// be checked against what it shows.
type fileChange struct {
	orgsync.Change
	Member *orgsync.Member `json:"member,omitempty"`
	Group  *orgsync.Group  `json:"group_object,omitempty"`
}

func newPlanFile(rep reconciler.Report, o planOverrides, now time.Time) planFile {
	f := planFile{
		Format: planFileFormat, FormatVersion: planFileVersion, OrgsyncVersion: buildinfo.Get().Version,
		CreatedAt: now.UTC(), Org: rep.Org, Source: rep.Source, Digest: rep.Digest, Overrides: o, Guard: rep.Guard,
		Summary: map[string]int{}, Changes: make([]fileChange, len(rep.Plan.Changes)),
		Conflicts: rep.Plan.Conflicts, Warnings: rep.Plan.Warnings,
	}
	for a, n := range rep.Plan.Summary() {
		f.Summary[string(a)] = n
	}
	for i, c := range rep.Plan.Changes {
		f.Changes[i] = fileChange{Change: c, Member: c.Member, Group: c.Group}
	}
	return f
}

// plan is the file's plan, as PlanDigest reads it.
func (f *planFile) plan() orgsync.Plan {
	p := orgsync.Plan{Org: f.Org, Owner: f.Source, Changes: make([]orgsync.Change, len(f.Changes)), Conflicts: f.Conflicts}
	for i, c := range f.Changes {
		p.Changes[i] = c.Change
		p.Changes[i].Member, p.Changes[i].Group = c.Member, c.Group
	}
	return p
}

// writePlanFile writes f to path, readable by its owner only (it names
// people), replacing the file only once it is complete.
func writePlanFile(path string, f planFile) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".orgsync-plan-*")
	if err != nil {
		return fmt.Errorf("plan -out %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	enc := json.NewEncoder(tmp)
	enc.SetIndent("", "  ")
	if err := errors.Join(tmp.Chmod(0o600), enc.Encode(f), tmp.Close()); err != nil {
		return fmt.Errorf("plan -out %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("plan -out %s: %w", path, err)
	}
	return nil
}

// readPlanFile reads and checks a plan file: its format, its version, and
// that its plan is the one its digest names (a file edited after `plan
// -out` wrote it is refused).
func readPlanFile(path string) (planFile, error) {
	var f planFile
	fh, err := os.Open(path)
	if err != nil {
		return f, fmt.Errorf("plan file: %w", err)
	}
	defer fh.Close()
	dec := json.NewDecoder(io.LimitReader(fh, 1<<30))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("plan file %s: not a plan `orgsync plan -out` wrote: %v: %w", path, err, orgsync.ErrInvalid)
	}
	switch {
	case f.Format != planFileFormat:
		return f, fmt.Errorf("plan file %s: format %q, want %q: %w", path, f.Format, planFileFormat, orgsync.ErrInvalid)
	case f.FormatVersion != planFileVersion:
		return f, fmt.Errorf("plan file %s: format_version %d; this orgsync reads version %d: plan again with this version: %w",
			path, f.FormatVersion, planFileVersion, orgsync.ErrInvalid)
	case f.Source == "" || f.Org == "" || f.Digest.IsZero():
		return f, fmt.Errorf("plan file %s: no source, org or digest: %w", path, orgsync.ErrInvalid)
	case reconciler.PlanDigest(f.plan()) != f.Digest.Plan:
		return f, fmt.Errorf("plan file %s: its changes are not the plan its digest names: the file was edited after it was written; plan again: %w",
			path, orgsync.ErrInvalid)
	}
	return f, nil
}

// terraformFlags spells terraform's single-dash `-out FILE` (and
// `-out=FILE`) as the `--out` flag cobra knows; every other argument, and
// everything after `--`, is left as it is.
func terraformFlags(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a == "-out" || len(a) > 5 && a[:5] == "-out=" {
			a = "-" + a
		}
		out = append(out, a)
	}
	return out
}
