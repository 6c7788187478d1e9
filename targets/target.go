package targets

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/targets/kmsadmin"
	"github.com/orgsync/orgsync/targets/scim"
)

// Store is what a target needs from orgsync's store.
type Store interface {
	// Observed returns every member (tombstones included) and group of org.
	Observed(ctx context.Context, org string) (orgsync.Snapshot, error)
	RecordRun(ctx context.Context, r orgsync.Run) (int64, error)
	TargetLinks(ctx context.Context, target string) ([]orgsync.TargetLink, error)
	SaveTargetLinks(ctx context.Context, links []orgsync.TargetLink) error
	DeleteTargetLinks(ctx context.Context, target, kind string, remoteIDs []string) error
	// CompleteSetup makes a pending_setup member active (ErrInvalid for a
	// deprovisioned one), recording actor.
	CompleteSetup(ctx context.Context, org, id, actor string) (orgsync.Member, error)
}

// SetupReader lists a KMS's org memberships with their setup status.
type SetupReader interface {
	Memberships(ctx context.Context) (map[string]kmsadmin.Membership, error)
}

// Target is one configured target, ready to plan and run.
type Target struct {
	Name, Org, Type string
	Client          *scim.Client
	Setup           SetupReader // nil: no setup-status read-back
	SetupSchedule   string
	// Schedule is the run schedule ("": runs only on demand).
	Schedule string
	// OnSetup, when set, is told of every setup-status read-back.
	OnSetup     func(completed int, err error)
	Store       Store
	Guard       reconciler.GuardConfig
	AllowPurge  bool
	SkipGroups  bool
	Concurrency int
	Timeout     time.Duration
	Log         zerolog.Logger
	// Insecure lists the settings that turn TLS verification off for this
	// target ("tls.insecure_skip_verify"), for check to show.
	Insecure []string
}

// unmanaged is the owner given to target resources orgsync did not make
// and cannot match: Diff never touches another owner's. It is no valid
// source or target name, and reads well in a conflict's reason.
const unmanaged = "the target (not orgsync's)"

// run returns the runner and job of one target run, sharing base's
// logger, metrics and clock. The runner's Store is the target (it records
// runs in orgsync's store); the job's Source is orgsync's org. Both read
// the org once between them.
func (t *Target) run(base *reconciler.Runner, guard reconciler.GuardConfig) (*reconciler.Runner, reconciler.Job) {
	r := &remote{t: t}
	job := reconciler.Job{
		Name: t.Name, Org: t.Org, Target: t.Name, DefaultRole: orgsync.RoleMember, Guard: guard,
		Source: desired{r}, Timeout: t.Timeout, Refine: t.refine,
	}
	return &reconciler.Runner{Store: r, Logger: base.Logger, Now: base.Now, Metrics: base.Metrics}, job
}

// Plan computes the target's plan and guard decision; nothing is written
// anywhere.
func (t *Target) Plan(ctx context.Context, base *reconciler.Runner, guard reconciler.GuardConfig) (reconciler.Report, error) {
	runner, job := t.run(base, guard)
	return runner.Plan(ctx, job)
}

// Run reads the setup status back (when configured), then plans, guards
// and applies the target's plan, recording the run. A failed read-back is
// logged and does not stop the run.
func (t *Target) Run(ctx context.Context, base *reconciler.Runner, guard reconciler.GuardConfig, force bool) (reconciler.Report, error) {
	if t.Setup != nil {
		if _, err := t.SyncSetup(ctx); err != nil {
			t.Log.Error().Err(err).Msg("setup-status read-back failed")
		}
	}
	runner, job := t.run(base, guard)
	return runner.Run(ctx, job, force)
}

// desired is the target's Source: orgsync's store.
type desired struct{ r *remote }

// Snapshot returns every member of the org keyed by member id, disabled
// when deprovisioned or deleted, and every group with its member ids.
func (d desired) Snapshot(ctx context.Context) (orgsync.Snapshot, error) {
	t := d.r.t
	obs, err := d.r.localOrg(ctx)
	if err != nil {
		return orgsync.Snapshot{}, fmt.Errorf("target %s: read org %q: %w", t.Name, t.Org, err)
	}
	out := orgsync.Snapshot{Members: make([]orgsync.Member, 0, len(obs.Members)), Groups: make([]orgsync.Group, 0, len(obs.Groups))}
	for i := range obs.Members {
		m := &obs.Members[i]
		status := orgsync.StatusActive
		if m.Status == orgsync.StatusDeprovisioned || m.DeletedAt != nil {
			status = orgsync.StatusDeprovisioned
		}
		if t.Type == TypeKMS && m.Email() == "" {
			// The KMS refuses a user without an email: holding the member
			// keeps it out of the plan (and what the KMS has of it as it
			// is) instead of failing every run.
			out.HeldUsers = append(out.HeldUsers, orgsync.HeldEntry{Key: m.ID, Name: m.UserName,
				Reason: "no email: a KMS user needs one", Status: heldStatus(status)})
			continue
		}
		out.Members = append(out.Members, t.normal(orgsync.Member{
			ExternalID: m.ID, UserName: m.UserName, Emails: m.Emails, GivenName: m.GivenName,
			FamilyName: m.FamilyName, DisplayName: m.DisplayName, Status: status,
		}))
	}
	for _, g := range obs.Groups {
		if t.SkipGroups {
			break
		}
		out.Groups = append(out.Groups, orgsync.Group{ExternalID: g.ID, DisplayName: g.DisplayName, Members: g.Members})
	}
	return out, nil
}

// heldStatus is the HeldEntry status of a held member: deprovisioned ones
// are still suspended in the target.
func heldStatus(s orgsync.Status) orgsync.Status {
	if s == orgsync.StatusDeprovisioned {
		return s
	}
	return ""
}

// normal is m with the attributes both sides compare: one primary email,
// no role (orgsync does not push roles), and for the KMS no display name
// (it makes its own from the names).
func (t *Target) normal(m orgsync.Member) orgsync.Member {
	email := m.Email()
	m.Emails = nil
	if email != "" {
		m.Emails = []orgsync.Email{{Value: email, Primary: true}}
	}
	m.Role = ""
	if t.Type == TypeKMS {
		m.DisplayName = ""
	}
	return m
}

// refine adjusts Diff's plan to what a target does: a suspended member
// keeps its profile in the target (no update of a member orgsync has
// deprovisioned: a SCIM-deleted one is even renamed in orgsync), and, when
// the target allows purges, the deprovisions of members gone from orgsync
// (purged) become purges, with the purge of those suspended before.
func (t *Target) refine(desired, observed orgsync.Snapshot, p *orgsync.Plan) {
	present := make(map[string]bool, len(desired.Members))
	disabled := map[string]bool{}
	for i := range desired.Members {
		m := &desired.Members[i]
		present[m.ExternalID] = true
		if m.Status == orgsync.StatusDeprovisioned {
			disabled[m.ExternalID] = true
		}
	}
	gone := map[string]bool{}
	if t.AllowPurge {
		for i := range observed.Members {
			if m := &observed.Members[i]; m.Owner == t.Name && !present[m.ExternalID] {
				gone[m.ID] = true
			}
		}
	}
	changes := p.Changes[:0:0]
	for _, c := range p.Changes {
		switch {
		case c.Action == orgsync.ActionUpdate && c.Member != nil && disabled[c.Member.ExternalID]:
		case c.Action == orgsync.ActionDeprovision && gone[c.MemberID]:
		default:
			changes = append(changes, c)
		}
	}
	for _, m := range observed.Members {
		if gone[m.ID] {
			changes = append(changes, orgsync.Change{Action: orgsync.ActionPurge, UserName: m.UserName, MemberID: m.ID,
				MemberKey: m.ExternalID, Reason: "purged from orgsync"})
		}
	}
	p.Changes = changes
}
