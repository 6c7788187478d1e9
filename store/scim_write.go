package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// loadSCIMMember reads a live SCIM-owned member inside tx.
func (s *Store) loadSCIMMember(ctx context.Context, tx *gorm.DB, org, id string) (orgsync.Member, error) {
	rows, err := s.on(ctx, tx).query(`SELECT `+memberDocCols+` FROM members m WHERE org_id = ? AND id = ? AND owner = ? AND deleted_at IS NULL`, org, id, scimOwner)
	if err != nil {
		return orgsync.Member{}, err
	}
	ms, err := scanMembersDoc(rows)
	if err != nil {
		return orgsync.Member{}, err
	}
	if len(ms) == 0 {
		return orgsync.Member{}, fmt.Errorf("member %q: %w", id, orgsync.ErrNotFound)
	}
	if err := s.attachEmails(s.on(ctx, tx), org, ms); err != nil {
		return orgsync.Member{}, err
	}
	return ms[0], nil
}

// nameHolder returns the member holding userName's folded form in org,
// other than except.
func (s *Store) nameHolder(ctx context.Context, tx *gorm.DB, org, userName, except string) (*orgsync.Member, error) {
	rows, err := s.on(ctx, tx).query(`SELECT `+memberCols+` FROM members WHERE org_id = ? AND user_name_fold = ? AND id <> ?`,
		org, orgsync.Fold(userName), except)
	if err != nil {
		return nil, err
	}
	ms, err := scanMembers(rows)
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	if err := s.attachEmails(s.on(ctx, tx), org, ms); err != nil {
		return nil, err
	}
	return &ms[0], nil
}

func nameConflict(userName string, holder *orgsync.Member) error {
	if holder.Owner == scimOwner {
		return fmt.Errorf("userName %q already exists: %w", userName, orgsync.ErrConflict)
	}
	return fmt.Errorf("userName %q belongs to a member owned by %q; orgsync will not take it over: %w",
		userName, orgsync.OwnerName(holder.Owner), orgsync.ErrConflict)
}

func copyMember(m orgsync.Member) orgsync.Member {
	m.Emails = append([]orgsync.Email(nil), m.Emails...)
	m.Groups = nil
	return m
}

func validUserName(m *orgsync.Member) error {
	if strings.TrimSpace(m.UserName) == "" {
		return fmt.Errorf("userName is required: %w", orgsync.ErrInvalid)
	}
	return nil
}

// SCIMCreateMember provisions m (its profile: userName, externalId, names,
// emails; Status deprovisioned for an inactive user) as owned by "scim".
//
// A live SCIM member with the same userName (case-insensitively) is
// ErrConflict; a member another owner holds is ErrConflict naming that
// owner; a member nobody owns is adopted. A SCIM member with that userName
// that is deleted (a tombstone) or deprovisioned is the same person only
// when its externalId is the one sent (both empty counts as equal;
// orgsync.ClaimUserName decides, orgsync.Member.Revive revives):
//   - same externalId: it is revived with the same ID, so keys it made stay
//     valid (active again if setup ever completed, else pending_setup);
//   - another externalId, tombstone: the tombstone is retired (retireTombstone:
//     renamed out of the way, memberships dropped, kept for the purge) and a
//     new member is created: a new ID, pending_setup, no groups. Setup state
//     never moves to another identity;
//   - another externalId, deprovisioned but not deleted (still visible to
//     SCIM): ErrConflict, the IdP must change or delete that resource first.
//
// A new member starts pending_setup with the org's default role.
func (s *Store) SCIMCreateMember(ctx context.Context, org string, m orgsync.Member) (orgsync.Member, error) {
	if err := validUserName(&m); err != nil {
		return orgsync.Member{}, err
	}
	if err := checkDoc(m.Attributes); err != nil {
		return orgsync.Member{}, err
	}
	var out orgsync.Member
	err := s.write(ctx, func(tx *gorm.DB) error {
		var role string
		found, err := s.in(tx).row(`SELECT default_role FROM orgs WHERE id = ?`, []any{org}, &role)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("org %q: %w", org, orgsync.ErrNotFound)
		}
		holder, err := s.nameHolder(ctx, tx, org, m.UserName, "")
		if err != nil {
			return err
		}
		var evs []eventRow
		claim := orgsync.ClaimUserName(holder, m.ExternalID)
		if claim == orgsync.ClaimRetire {
			if evs, err = s.retireTombstone(ctx, tx, holder); err != nil {
				return err
			}
			claim, holder = orgsync.ClaimFree, nil
		}
		now := s.Now()
		wantActive := m.Status != orgsync.StatusDeprovisioned
		if claim == orgsync.ClaimFree {
			out = orgsync.Member{ID: newID(), Org: org, UserName: m.UserName, ExternalID: m.ExternalID,
				Emails: append([]orgsync.Email(nil), m.Emails...), GivenName: m.GivenName, FamilyName: m.FamilyName,
				DisplayName: m.DisplayName, Attributes: m.Attributes, Role: role, Status: orgsync.StatusPendingSetup, Owner: scimOwner,
				Version: 1, CreatedAt: now, UpdatedAt: now}
			out.SetActive(now, wantActive)
			if err := s.on(ctx, tx).insert("members", []string{"id", "org_id", "user_name", "user_name_fold", "external_id", "email",
				"given_name", "family_name", "display_name", "role", "status", "owner", "deprovisioned_at", "version", "created_at", "updated_at", "doc_sum"},
				[][]any{{out.ID, org, out.UserName, orgsync.Fold(out.UserName), out.ExternalID, out.Email(), out.GivenName,
					out.FamilyName, out.DisplayName, out.Role, string(out.Status), out.Owner, nullTime(out.DeprovisionedAt),
					out.Version, now, now, orgsync.AttributesDigestOf(out.Attributes)}}, ""); err != nil {
				return translate(err)
			}
			if len(out.Attributes) > 0 { // a new member: no row to replace
				if err := s.on(ctx, tx).insert("member_docs", []string{"member_id", "doc"}, [][]any{{out.ID, string(out.Attributes)}}, ""); err != nil {
					return err
				}
			}
			if err := s.on(ctx, tx).insert("member_emails", emailCols, appendEmailRows(nil, &out), ""); err != nil {
				return err
			}
			return s.appendEvents(ctx, tx, append(evs, eventRow{org: org, actor: scimOwner, kind: orgsync.EventMemberCreated, memberID: out.ID, after: out}))
		}
		switch claim {
		case orgsync.ClaimOwned, orgsync.ClaimTaken:
			return nameConflict(m.UserName, holder)
		case orgsync.ClaimOtherIdentity:
			return fmt.Errorf("userName %q already exists (a deprovisioned member with another externalId; "+
				"reactivate, rename or delete it first): %w", m.UserName, orgsync.ErrConflict)
		case orgsync.ClaimRevive:
			// A tombstone of an older release may still hold memberships
			// (DELETE kept them then): a revival starts without groups,
			// as one of a member deleted today does.
			if holder.DeletedAt != nil {
				if evs, err = s.dropMemberships(ctx, tx, holder); err != nil {
					return err
				}
			}
		}
		before := copyMember(*holder)
		out = copyMember(*holder)
		out.UserName, out.ExternalID, out.GivenName, out.FamilyName, out.DisplayName = m.UserName, m.ExternalID, m.GivenName, m.FamilyName, m.DisplayName
		out.Emails = append([]orgsync.Email(nil), m.Emails...)
		out.Attributes = m.Attributes
		kind := out.Revive(now, wantActive)
		out.Version, out.UpdatedAt = out.Version+1, now
		if err := s.saveMember(ctx, tx, &out); err != nil {
			return err
		}
		if err := s.writeDoc(ctx, tx, out.ID, out.Attributes); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, append(evs, eventRow{org: org, actor: scimOwner, kind: kind, memberID: out.ID, before: before, after: out}))
	})
	if err != nil {
		return orgsync.Member{}, scimFailed("create member", m.UserName, err)
	}
	return out, nil
}

// retireTombstone frees the userName of tomb, a SCIM tombstone, for a new
// member: it renames tomb to orgsync.RetiredUserName (a member.updated event shows
// the old and new names) and drops any group membership it still holds.
// Renaming rather than purging keeps the deleted member's record, as every
// deletion does, for the org's purge_after.
func (s *Store) retireTombstone(ctx context.Context, tx *gorm.DB, tomb *orgsync.Member) ([]eventRow, error) {
	evs, err := s.dropMemberships(ctx, tx, tomb)
	if err != nil {
		return nil, err
	}
	before := copyMember(*tomb)
	next := copyMember(*tomb)
	next.UserName = orgsync.RetiredUserName(tomb.UserName, tomb.ID)
	if holder, err := s.nameHolder(ctx, tx, tomb.Org, next.UserName, tomb.ID); err != nil {
		return nil, err
	} else if holder != nil {
		return nil, fmt.Errorf("userName %q is held by a deleted member and its retired name %q is taken: %w",
			tomb.UserName, next.UserName, orgsync.ErrConflict)
	}
	next.Version, next.UpdatedAt = tomb.Version+1, s.Now()
	if err := s.saveMember(ctx, tx, &next); err != nil {
		return nil, err
	}
	*tomb = next
	return append(evs, eventRow{org: tomb.Org, actor: scimOwner, kind: orgsync.EventMemberUpdated, memberID: tomb.ID, before: before, after: next}), nil
}

// dropMemberships removes m from every group it belongs to and returns a
// group.member_removed event per group.
func (s *Store) dropMemberships(ctx context.Context, tx *gorm.DB, m *orgsync.Member) ([]eventRow, error) {
	rows, err := s.on(ctx, tx).query(`SELECT g.id, g.display_name FROM group_members gm JOIN org_groups g ON g.id = gm.group_id
		WHERE gm.member_id = ? ORDER BY g.display_name_fold`, m.ID)
	if err != nil {
		return nil, err
	}
	var evs []eventRow
	for rows.Next() {
		var gid, name string
		if err := rows.Scan(&gid, &name); err != nil {
			rows.Close()
			return nil, err
		}
		evs = append(evs, eventRow{org: m.Org, actor: scimOwner, kind: orgsync.EventGroupMemberRemoved, memberID: m.ID, groupID: gid,
			before: membershipState{name, m.UserName}})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, nil
	}
	if _, err := s.on(ctx, tx).exec(`DELETE FROM group_members WHERE member_id = ?`, m.ID); err != nil {
		return nil, err
	}
	return evs, nil
}

// SCIMUpdateMember changes a live SCIM-owned member atomically: it loads the
// member inside the write transaction, lets change edit a copy (the
// receiver applies a PUT or every PATCH operation there; an error aborts
// with nothing written), and saves the result.
//
// Only the profile (userName, externalId, names, emails) and activity are
// taken from the edit: Status deprovisioned deprovisions, any other status
// reactivates a deprovisioned member (to active if setup ever completed,
// else pending_setup) and leaves a live one as it is. ID, owner, role and
// setup state cannot be changed. An edit that changes nothing writes
// nothing and keeps the version. A rename onto the userName of a SCIM
// tombstone retires the tombstone (see retireTombstone), as a create does.
func (s *Store) SCIMUpdateMember(ctx context.Context, org, id string, ifVersion int64, change func(*orgsync.Member) error) (orgsync.Member, error) {
	var out orgsync.Member
	err := s.write(ctx, func(tx *gorm.DB) error {
		cur, err := s.loadSCIMMember(ctx, tx, org, id)
		if err != nil {
			return err
		}
		if err := checkVersion("member", id, cur.Version, ifVersion); err != nil {
			return err
		}
		edit := copyMember(cur)
		if err := change(&edit); err != nil {
			return err
		}
		if err := validUserName(&edit); err != nil {
			return err
		}
		if err := checkDoc(edit.Attributes); err != nil {
			return err
		}
		edit.Role = cur.Role
		next := copyMember(cur)
		profileChanged := profile(&next, &edit, cur.Role)
		next.ExternalID = edit.ExternalID
		profileChanged = profileChanged || cur.ExternalID != next.ExternalID
		docChanged := !sameDoc(cur.Attributes, edit.Attributes)
		next.Attributes = edit.Attributes
		profileChanged = profileChanged || docChanged
		now := s.Now()
		kind := next.SetActive(now, edit.Status != orgsync.StatusDeprovisioned)
		if kind == "" {
			if !profileChanged {
				out = cur
				return nil
			}
			kind = orgsync.EventMemberUpdated
		}
		var evs []eventRow
		if orgsync.Fold(next.UserName) != orgsync.Fold(cur.UserName) {
			holder, err := s.nameHolder(ctx, tx, org, next.UserName, cur.ID)
			if err != nil {
				return err
			}
			// A SCIM tombstone gives its name up, as it does to a create
			// by another identity.
			if holder != nil && holder.Owner == scimOwner && holder.DeletedAt != nil {
				if evs, err = s.retireTombstone(ctx, tx, holder); err != nil {
					return err
				}
				holder = nil
			}
			if holder != nil {
				return nameConflict(next.UserName, holder)
			}
		}
		next.Version, next.UpdatedAt = cur.Version+1, now
		if err := s.saveMember(ctx, tx, &next); err != nil {
			return err
		}
		if docChanged {
			if err := s.writeDoc(ctx, tx, id, next.Attributes); err != nil {
				return err
			}
		}
		out = next
		return s.appendEvents(ctx, tx, append(evs, eventRow{org: org, actor: scimOwner, kind: kind, memberID: id, before: cur, after: next}))
	})
	if err != nil {
		return orgsync.Member{}, scimFailed("update member", id, err)
	}
	return out, nil
}

// SCIMDeleteMember deletes a live SCIM-owned member: it disappears from
// SCIM (ErrNotFound afterwards) but is kept deprovisioned as a tombstone
// until purged. Its group memberships are removed (a group.member_removed
// event each): a deleted member holds no group, and a revival starts with
// none.
func (s *Store) SCIMDeleteMember(ctx context.Context, org, id string, ifVersion int64) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		cur, err := s.loadSCIMMember(ctx, tx, org, id)
		if err != nil {
			return err
		}
		if err := checkVersion("member", id, cur.Version, ifVersion); err != nil {
			return err
		}
		next := copyMember(cur)
		now := s.Now()
		kind := next.Delete(now)
		next.Version, next.UpdatedAt = cur.Version+1, now
		evs, err := s.dropMemberships(ctx, tx, &cur)
		if err != nil {
			return err
		}
		if err := s.saveMember(ctx, tx, &next); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, append(evs, eventRow{org: org, actor: scimOwner, kind: kind, memberID: id, before: cur, after: next}))
	})
	if err != nil {
		return scimFailed("delete member", id, err)
	}
	return nil
}

// scimFailed is the error of SCIM operation op on subject. An error of a
// domain kind (not found, conflict, precondition, invalid) is returned as
// it is: the receiver shows its text to the IdP, which needs what is wrong,
// not where in orgsync it was found. Anything else is wrapped for the log.
func scimFailed(op, subject string, err error) error {
	for _, kind := range []error{orgsync.ErrNotFound, orgsync.ErrConflict, orgsync.ErrPrecondition, orgsync.ErrInvalid} {
		if errors.Is(err, kind) {
			return err
		}
	}
	return fmt.Errorf("store: scim %s %q: %w", op, subject, err)
}
