package orgsync

import (
	"fmt"
	"time"
)

// The member lifecycle (see the package doc) and who may change what. The
// store, the reconciler and its in-memory fake all apply these, so that a
// rule has one wording: the store reads a member, lets a transition below
// change it in memory, then writes it with the event kind the transition
// returned.
//
// Every transition returns the kind of the event that records it (the
// EventMember constants), or "" when the member was already as asked and
// nothing is to be written. None of them touches Version or UpdatedAt:
// the store bumps them once per write, which may carry a profile change
// besides the transition.

// Deprovision revokes the member's access: it becomes deprovisioned, with
// DeprovisionedAt now, from which the purge counts. A member that already
// is deprovisioned is left as it is, its DeprovisionedAt kept. Setup state
// is kept, so a reactivation does not make anyone set up again.
func (m *Member) Deprovision(now time.Time) string {
	if m.Status == StatusDeprovisioned {
		return ""
	}
	m.Status, m.DeprovisionedAt = StatusDeprovisioned, &now
	return EventMemberDeprovisioned
}

// Reactivate gives a deprovisioned or deleted member its access back: it
// returns to ReactivatedStatus (active when setup ever completed, else
// pending_setup) and DeprovisionedAt and DeletedAt are cleared. A live
// member is left as it is.
func (m *Member) Reactivate() string {
	if m.Active() && m.DeletedAt == nil {
		return ""
	}
	m.Status, m.DeprovisionedAt, m.DeletedAt = m.ReactivatedStatus(), nil, nil
	return EventMemberReactivated
}

// SetActive makes the member's access what its owner says (SCIM's active
// attribute, a source's enabled flag): false deprovisions it (Deprovision),
// true reactivates it (Reactivate).
func (m *Member) SetActive(now time.Time, active bool) string {
	if active {
		return m.Reactivate()
	}
	return m.Deprovision(now)
}

// Delete is the owner's deletion of the member (a SCIM DELETE): it is
// deprovisioned if it was not, and marked deleted at now. The member is kept
// as a tombstone, which the purge removes after the org's purge_after;
// deleting a tombstone again changes nothing. (Dropping its group
// memberships is the store's part.)
func (m *Member) Delete(now time.Time) string {
	if m.DeletedAt != nil {
		return ""
	}
	m.Deprovision(now)
	m.DeletedAt = &now
	return EventMemberDeleted
}

// CompleteSetup records that the member created their master key:
// pending_setup becomes active, with SetupCompletedAt now. An active member
// is left as it is. A deprovisioned or deleted member is ErrInvalid: its
// access was revoked, and setup cannot complete until it is reactivated.
func (m *Member) CompleteSetup(now time.Time) (string, error) {
	if m.DeletedAt != nil || m.Status == StatusDeprovisioned {
		return "", fmt.Errorf("member %q is deprovisioned; reactivate it before completing setup: %w", m.UserName, ErrInvalid)
	}
	if m.Status == StatusActive {
		return "", nil
	}
	m.Status, m.SetupCompletedAt = StatusActive, &now
	return EventMemberSetupComplete, nil
}

// Claim is what a SCIM create may do with the member that already holds its
// userName (compared with Fold), as ClaimUserName decides.
type Claim int

// The claims.
const (
	// ClaimFree: nobody holds the userName; the create makes a new member.
	ClaimFree Claim = iota
	// ClaimAdopt: a member nobody owns; SCIM adopts it (Revive).
	ClaimAdopt
	// ClaimRevive: a SCIM tombstone or deprovisioned SCIM member with the
	// create's externalId, the same person: revived under its ID (Revive),
	// so the keys it made stay valid.
	ClaimRevive
	// ClaimRetire: a SCIM tombstone with another externalId, another person:
	// the tombstone is renamed to RetiredUserName and kept for the purge, and
	// the create makes a new member. Setup state and memberships never pass
	// to another identity.
	ClaimRetire
	// ClaimOwned: a member of another owner; the create is a conflict
	// naming that owner, as orgsync takes over no source's member.
	ClaimOwned
	// ClaimTaken: a live SCIM member; the create is a conflict.
	ClaimTaken
	// ClaimOtherIdentity: a deprovisioned SCIM member, not deleted (still
	// visible to SCIM), with another externalId; the create is a conflict
	// until the IdP changes or deletes that resource.
	ClaimOtherIdentity
)

// ClaimUserName decides what a SCIM create with externalID may do with
// holder, the member holding its userName (nil for none). The same person
// is known by the same externalId, both empty counting as the same.
func ClaimUserName(holder *Member, externalID string) Claim {
	switch {
	case holder == nil:
		return ClaimFree
	case holder.Owner == "":
		return ClaimAdopt
	case holder.Owner != OwnerSCIM:
		return ClaimOwned
	case holder.DeletedAt != nil && holder.ExternalID != externalID:
		return ClaimRetire
	case holder.DeletedAt != nil, holder.Status == StatusDeprovisioned && holder.ExternalID == externalID:
		return ClaimRevive
	case holder.Status == StatusDeprovisioned:
		return ClaimOtherIdentity
	}
	return ClaimTaken
}

// Revive makes m, the member a SCIM create claims (ClaimAdopt or
// ClaimRevive), the receiver's live member under its ID: owned by
// OwnerSCIM, not deleted, and active or deprovisioned as the create says
// (SetActive). The event kind is member.adopted for a member nobody owned
// and member.reactivated otherwise, also when the create says inactive:
// the resource is back in SCIM. The caller sets the profile the create
// sent.
func (m *Member) Revive(now time.Time, active bool) string {
	kind := EventMemberReactivated
	if m.Owner == "" {
		kind = EventMemberAdopted
	}
	m.Owner, m.DeletedAt = OwnerSCIM, nil
	m.SetActive(now, active)
	return kind
}

// RetiredUserName is the userName a SCIM tombstone is given when its name
// is taken by another identity (ClaimRetire, or a SCIM rename onto it): the
// old name, then "~deleted~" and the member's ID, which no other member
// holds. The tombstone keeps everything else until the purge removes it.
func RetiredUserName(userName, id string) string { return userName + "~deleted~" + id }

// ReservedOwner reports whether name is one of orgsync's own owners
// (OwnerSCIM, OwnerPurge), which no source may be called.
func ReservedOwner(name string) bool { return name == OwnerSCIM || name == OwnerPurge }

// OwnerName is how messages name an owner: "" is nobody.
func OwnerName(owner string) string {
	if owner == "" {
		return "nobody (unmanaged)"
	}
	return owner
}

// Refusal is why an owner may not apply a change (MayApply,
// MayChangeGroup). The store skips such a change and lists Reason in
// Applied.Skipped. A Refusal is an ErrConflict: the record belongs to
// another owner, or a rule protects it.
type Refusal struct{ Reason string }

func (r *Refusal) Error() string { return r.Reason }

// Unwrap makes a Refusal an ErrConflict.
func (r *Refusal) Unwrap() error { return ErrConflict }

// The refusals of a purge.
var (
	// ErrPurgeAdmin: admins (IsAdminRole, however spelled) are never purged.
	ErrPurgeAdmin = &Refusal{"admins are never purged"}
	// ErrPurgeLive: a member that is neither deprovisioned nor deleted is
	// never purged, whatever its timestamps say.
	ErrPurgeLive = &Refusal{"member is not deprovisioned"}
)

// MayApply says whether owner, the owner of a plan (a source's name,
// OwnerSCIM for the SCIM receiver, OwnerPurge for the purge), may apply a
// change of action a to m, a member the store holds: nil if it may, else a
// *Refusal saying why not.
//
//   - adopt takes over only a member nobody owns;
//   - purge removes a member of any owner (the purge is the org's, not a
//     source's), but never an admin (ErrPurgeAdmin) and never a member that
//     is neither deprovisioned nor deleted (ErrPurgeLive);
//   - every other action changes only owner's own members: a source's, or
//     for the SCIM receiver only the members of OwnerSCIM.
//
// Provision makes a new member and is never refused here (a name held by
// another owner is the store's to find); group actions ask MayChangeGroup.
func MayApply(owner string, a Action, m *Member) error {
	switch a {
	case ActionProvision:
		return nil
	case ActionPurge:
		if IsAdminRole(m.Role) {
			return ErrPurgeAdmin
		}
		if m.Active() && m.DeletedAt == nil {
			return ErrPurgeLive
		}
		return nil
	case ActionAdopt:
		owner = ""
	}
	if m.Owner != owner {
		return &Refusal{fmt.Sprintf("member is owned by %q", OwnerName(m.Owner))}
	}
	return nil
}

// MayChangeGroup says whether owner may change (rename, delete, add members
// to or remove members from) a group of groupOwner: only its own.
func MayChangeGroup(owner, groupOwner string) error {
	if groupOwner != owner {
		return &Refusal{fmt.Sprintf("group is owned by %q", OwnerName(groupOwner))}
	}
	return nil
}
