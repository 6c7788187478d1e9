package reconciler

import (
	"slices"
	"time"

	"github.com/orgsync/orgsync"
)

// Report is the outcome of one plan or run of one source (or of a purge):
// what was computed and done, nothing about how it is shown. Package
// reconciler/render writes reports as text, markdown or JSON.
type Report struct {
	Org    string
	Source string
	// Target is set (to Source) for the report of a target run.
	Target string
	Plan   orgsync.Plan
	Guard  orgsync.Decision
	// DryRun is set when the plan was only computed (orgsync plan).
	DryRun bool
	// Applied is what the store really changed; nil when nothing was
	// applied (dry run, blocked or failed before the apply).
	Applied *orgsync.Applied
	// PendingSetup holds the user names of the org's members awaiting
	// master-key creation (pending_setup) once this run is done: after the
	// plan for a dry run or an applied run, as observed otherwise. Nil when
	// the store was not read.
	PendingSetup []string
	// ProvisionedPending holds the user names this run provisioned (or, for
	// a dry run, would provision); they all await master-key creation.
	ProvisionedPending []string
	// Error is why the run failed, "" if it did not.
	Error string
	// Digest identifies the source snapshot, the org and the plan (zero
	// for a purge and a run that failed before both were read).
	Digest orgsync.Digest
	// Approves is the blocked run whose plan this run applied, Actor who
	// approved it (see Runner.Approve); zero otherwise.
	Approves int64
	Actor    string
	// Read says how the source was read (full or incremental, and why);
	// nil for sources that only read in full, and for purges.
	Read *orgsync.Read
	// cursor is what to save with the applied plan of an incremental
	// source (nil: nothing); jobDigest marks it settled.
	cursor    *orgsync.Cursor
	jobDigest string
	// storeUnread: the source was unchanged and the store settled, so
	// neither the store was read nor Diff run (PendingSetup stays nil).
	storeUnread bool
	// digest, when set, returns Digest, computed beside the apply: a run
	// records it, nothing before the record needs it.
	digest func() orgsync.Digest
	// RunID is the id of the recorded run, 0 for a dry run.
	RunID      int64
	StartedAt  time.Time
	FinishedAt time.Time
}

// DetailedExitCode is the exit code of `orgsync plan --detailed-exitcode`
// for reports that did not fail: 3 when a guard would block any of them,
// else 4 when any has conflicts (entries held back: they need a person),
// else 2 when any plans changes, 0 otherwise.
func DetailedExitCode(reports []Report) int {
	code := 0
	for _, r := range reports {
		switch {
		case r.Guard.Blocked && !r.Guard.Forced:
			return 3
		case len(r.Plan.Conflicts) > 0:
			code = 4
		case !r.Plan.Empty() && code < 2:
			code = 2
		}
	}
	return code
}

// pendingAfter returns the sorted user names of the members that are
// pending_setup in observed, after p when project is set.
func pendingAfter(observed orgsync.Snapshot, p *orgsync.Plan, project bool) []string {
	return pendingOf(observed, p, project, nil)
}

// pendingApplied is pendingAfter the applied plan p, with the members the
// store really provisioned in place of p's provisions: it skips one whose
// user name was taken between plan and apply.
func pendingApplied(observed orgsync.Snapshot, p *orgsync.Plan, provisioned []string) []string {
	if provisioned == nil {
		provisioned = []string{} // nothing provisioned, not "as planned"
	}
	return pendingOf(observed, p, true, provisioned)
}

// pendingOf is pendingAfter, with provisioned (when not nil) standing for
// the plan's provisions.
func pendingOf(observed orgsync.Snapshot, p *orgsync.Plan, project bool, provisioned []string) []string {
	type st struct {
		name   string
		status orgsync.Status
	}
	byID := make(map[string]st, len(observed.Members))
	for _, m := range observed.Members {
		if m.DeletedAt == nil {
			byID[m.ID] = st{m.UserName, m.Status}
		}
	}
	added := provisioned
	if project {
		for _, c := range p.Changes {
			s, ok := byID[c.MemberID]
			switch c.Action {
			case orgsync.ActionProvision:
				if provisioned == nil {
					added = append(added, c.UserName)
				}
			case orgsync.ActionAdopt, orgsync.ActionReactivate:
				byID[c.MemberID] = st{c.UserName, c.Member.Status}
			case orgsync.ActionUpdate:
				if ok {
					byID[c.MemberID] = st{c.UserName, s.status}
				}
			case orgsync.ActionDeprovision:
				if ok {
					byID[c.MemberID] = st{s.name, orgsync.StatusDeprovisioned}
				}
			case orgsync.ActionPurge:
				delete(byID, c.MemberID)
			}
		}
	}
	out := make([]string, 0, len(added))
	out = append(out, added...)
	for _, s := range byID {
		if s.status == orgsync.StatusPendingSetup {
			out = append(out, s.name)
		}
	}
	slices.Sort(out)
	return out
}

// plannedProvisions lists the user names p provisions.
func plannedProvisions(p *orgsync.Plan) []string {
	out := []string{}
	for _, c := range p.Changes {
		if c.Action == orgsync.ActionProvision {
			out = append(out, c.UserName)
		}
	}
	slices.Sort(out)
	return out
}
