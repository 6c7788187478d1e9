package orgsync

import (
	"encoding/json"
	"time"
)

// RunResult is how a reconcile run ended.
type RunResult string

// The run results.
const (
	RunApplied RunResult = "applied" // the plan was applied (possibly empty)
	RunBlocked RunResult = "blocked" // a guard refused the plan; nothing written
	RunFailed  RunResult = "failed"  // the source read or the apply failed
)

// Decision is a guard's verdict on a plan.
type Decision struct {
	Blocked bool   `json:"blocked"`
	Reason  string `json:"reason"`
	Forced  bool   `json:"forced,omitempty"`
	// Empty: the source returned no users while its members are active.
	// --force does not override that (a broken source looks the same);
	// only allow_empty or --allow-empty does.
	Empty bool `json:"empty,omitempty"`
}

// Run is the record of one reconcile run of one source.
type Run struct {
	ID     int64  `json:"id"`
	Org    string `json:"org"`
	Source string `json:"source"`
	// Target is set for the runs of a target (then Source names it too).
	Target     string    `json:"target,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Result     RunResult `json:"result"`
	Guard      Decision  `json:"guard"`
	Summary    Summary   `json:"summary"`
	Applied    *Applied  `json:"applied,omitempty"`
	Error      string    `json:"error,omitempty"`
	// Plan is the full plan, kept for review.
	Plan *Plan `json:"plan,omitempty"`
	// Digest identifies what the plan was computed from (nil for purges
	// and runs recorded before digests were kept): a blocked run can be
	// approved while it still matches (orgsync runs approve).
	Digest *Digest `json:"digest,omitempty"`
	// Approves is the id of the blocked run this run applied the plan of,
	// 0 for other runs; Actor is who approved it ("cli", "admin-api").
	Approves int64  `json:"approves,omitempty"`
	Actor    string `json:"actor,omitempty"`
	// Read says whether the source was read in full or incrementally, and
	// why; omitted for runs of sources that only read in full (and purges).
	Read *Read `json:"read,omitempty"`
}

// Duration is how long the run took.
func (r Run) Duration() time.Duration { return r.FinishedAt.Sub(r.StartedAt) }

// Event is one entry of the append-only membership change log, the feed the
// KMS consumes. Seq grows strictly; readers resume after the last Seq seen.
type Event struct {
	Seq      int64           `json:"seq"`
	Time     time.Time       `json:"time"`
	Org      string          `json:"org"`
	Actor    string          `json:"actor"`
	Kind     string          `json:"kind"`
	MemberID string          `json:"member_id,omitempty"`
	GroupID  string          `json:"group_id,omitempty"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
}

// Event kinds.
const (
	EventMemberCreated       = "member.created"
	EventMemberUpdated       = "member.updated"
	EventMemberDeprovisioned = "member.deprovisioned"
	EventMemberReactivated   = "member.reactivated"
	EventMemberSetupComplete = "member.setup_completed"
	EventMemberDeleted       = "member.deleted"
	EventMemberPurged        = "member.purged"
	EventMemberAdopted       = "member.adopted"
	EventGroupCreated        = "group.created"
	EventGroupUpdated        = "group.updated"
	EventGroupDeleted        = "group.deleted"
	EventGroupMemberAdded    = "group.member_added"
	EventGroupMemberRemoved  = "group.member_removed"
	// EventSourceRenamed: `orgsync sources rename` handed the members and
	// groups of one owner to another (before and after name the owners).
	EventSourceRenamed = "source.renamed"
)
