// Package reconciler converges an org's membership in the store toward the
// desired state a source reads.
//
// A run is level-based: it reads the source's complete Snapshot, reads the
// store's view of the whole org, and computes a Plan with the pure function
// Diff. A dry run prints that Plan; a real run checks it against the guards
// and hands the very same Plan to Store.Apply. Running twice in a row plans
// nothing the second time.
//
// # Identity and ownership
//
// Members and groups are matched on owner (the source name) plus their
// immutable external key. A source only ever changes what it owns: members
// and groups of another owner (the SCIM receiver, other sources) are never
// updated, deprovisioned, deleted or taken over. A member with no owner and
// the same email as a desired user is adopted once. Anything that would mean
// guessing — duplicate keys, user names or emails in the source, a user name
// or group name already held by someone else — is held and listed in
// Plan.Conflicts (counted in Plan.Held); the member the conflicting entry
// would have matched is left exactly as it is. So are the members and
// groups named by the entries a source could not use (Snapshot.HeldUsers,
// HeldGroups), which also take part in the duplicate checks: an entry
// claiming another's user name or email holds both, so it can never
// displace the member holding it. A held group is not deleted and its
// memberships are not changed, and neither are those of a group nesting
// it. A held entry without a key holds the owner's member (or group) of
// its name. A held entry the source still reads as disabled
// (HeldEntry.Status) suspends the member of its key, and only that: access
// must not outlive the account.
//
// # Lifecycle
//
// A user enabled at the source with no member is provisioned pending_setup; a
// user disabled at the source with no member is not provisioned. An owned
// member that is disabled at the source or gone from it is deprovisioned
// (suspended: nothing is deleted). A deprovisioned owned member the source
// lists as enabled again is reactivated: active when setup was ever
// completed, pending_setup otherwise. Profile and role drift is corrected by
// update changes. Deleting members is the separate, guarded purge step
// (PurgePlan), which never purges an admin. An entry re-created at the
// source (a new key, the same name) is a conflict, unless the source's
// opt-in RecreatedEntries rule finds it is the same person by more than
// the name: then the plan re-keys the member (ActionRekey).
//
// # Groups
//
// Nested source groups are stored flattened: a group's members are all
// in-scope users that belong to it directly or through nested groups.
// Memberships of a member that is deprovisioned (or becomes so in the plan)
// are frozen: suspension keeps data, so such a member is neither removed from
// its groups nor added to new ones until it is reactivated. Members of other
// owners found in an owned group are left there.
//
// # Guards and reports
//
// CheckGuards refuses plans that would deprovision too much, delete too many
// groups, remove too many memberships or take the admin role from too many
// members, or that come from a source returning no users at all; Runner.Run then writes nothing,
// records the blocked run and returns an error wrapping orgsync.ErrGuard.
// Each plan or run ends in a Report: the plan, the guard decision, what
// was applied and who awaits master-key creation. The reconciler only
// computes reports; package reconciler/render (which imports this one,
// never the reverse) writes them as text, markdown or the JSON of the CLI
// contract, with the orphaned owners (Orphan) of their orgs.
//
// # Reviewed plans
//
// Every plan carries the digests (Digests) of the source snapshot, of the
// org as stored and of the plan itself; runs record them. RunReviewed
// applies a plan reviewed earlier (a plan file, a blocked run's plan via
// Approve) only when the digests computed now are the same, which makes it
// that very plan, and otherwise writes nothing and returns orgsync.ErrStale.
// The percentage guards weigh a plan only from GuardConfig.PercentMinCount
// up.
//
// # Incremental reads
//
// A Source that also implements Incremental, run against a Store that
// implements CursorStore, is read from the cursor its last applied run
// saved: the source returns the complete Snapshot all the same (rebuilt
// from what changed), so Diff, the guards and the Plan are those of a
// full read. The cursor is read before the source and saved by
// ApplyCursor in the transaction that applies the plan (an empty one too);
// a dry run, a blocked or a failed run leaves it where it was. Job.FullEvery
// (default DefaultFullEvery) forces a full read that long after the last
// one; the first run reads in full. Each run records how it read
// (orgsync.Read: kind and reason).
//
// # Scheduling
//
// Scheduler runs each source on its cron spec, never twice at once, with a
// per-run timeout and an optional cross-replica Locker, plus a daily purge
// per org.
package reconciler
