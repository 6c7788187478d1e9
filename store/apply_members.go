package store

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

func (a *applier) provision(cs []orgsync.Change) error {
	keys := make([]string, 0, len(cs))
	folds := make([]string, 0, len(cs))
	for _, c := range cs {
		if c.Member == nil || c.MemberKey == "" {
			return fmt.Errorf("provision %q without member or key: %w", c.UserName, orgsync.ErrInvalid)
		}
		keys = append(keys, c.MemberKey)
		folds = append(folds, orgsync.Fold(c.Member.UserName))
	}
	if err := a.resolveMembers(keys); err != nil {
		return err
	}
	taken := map[string]string{} // user_name_fold → owner
	if a.fresh {
		taken = a.memberFolds
	}
	if err := a.lookupPairs(`SELECT user_name_fold, owner FROM members WHERE org_id = ? AND user_name_fold IN`,
		[]any{a.plan.Org}, folds, taken); err != nil {
		return err
	}
	var memberRows, emailRows, docRows [][]any
	for _, c := range cs {
		if _, done := a.memberKeys[c.MemberKey]; done {
			continue // provisioned by an earlier apply of this plan
		}
		if hasNUL(c.Member) {
			a.skip(c, errNUL)
			continue
		}
		if err := checkDoc(c.Member.Attributes); err != nil {
			a.skip(c, err.Error())
			continue
		}
		fold := orgsync.Fold(c.Member.UserName)
		if owner, ok := taken[fold]; ok {
			a.skip(c, fmt.Sprintf("user name is taken by a member owned by %q", orgsync.OwnerName(owner)))
			continue
		}
		m := *c.Member
		m.ID, m.Org, m.Owner, m.ExternalID = newID(), a.plan.Org, a.plan.Owner, c.MemberKey
		m.Status, m.Version, m.CreatedAt, m.UpdatedAt = orgsync.StatusPendingSetup, 1, a.now, a.now
		m.SetupCompletedAt, m.DeprovisionedAt, m.DeletedAt, m.Groups = nil, nil, nil, nil
		if m.Role == "" {
			m.Role = a.defaultRole
		}
		taken[fold] = a.plan.Owner
		a.memberKeys[c.MemberKey] = m.ID
		a.created[m.ID] = true
		a.delta.members += a.counted(&m)
		memberRows = append(memberRows, []any{m.ID, m.Org, m.UserName, fold, m.ExternalID, m.Email(), m.GivenName, m.FamilyName,
			m.DisplayName, m.Role, string(m.Status), m.Owner, m.Version, a.nowArg, a.nowArg, orgsync.AttributesDigestOf(m.Attributes)})
		if len(m.Attributes) > 0 {
			docRows = append(docRows, []any{m.ID, string(m.Attributes)})
		}
		emailRows = appendEmailRows(emailRows, &m)
		a.out.Counts[orgsync.ActionProvision]++
		a.out.Provisioned = append(a.out.Provisioned, m.UserName)
		a.event(orgsync.EventMemberCreated, m.ID, "", nil, m)
	}
	if err := a.c.insert("members", []string{"id", "org_id", "user_name", "user_name_fold", "external_id", "email",
		"given_name", "family_name", "display_name", "role", "status", "owner", "version", "created_at", "updated_at", "doc_sum"},
		memberRows, ""); err != nil {
		return err
	}
	if err := a.c.insert("member_docs", []string{"member_id", "doc"}, docRows, ""); err != nil {
		return err
	}
	return a.c.insert("member_emails", emailCols, emailRows, "")
}

// errNUL is why a change carrying a NUL character is skipped: PostgreSQL
// cannot store one in text, and no directory value legitimately has one.
const errNUL = "a value contains a NUL character"

func hasNUL(m *orgsync.Member) bool {
	for _, v := range []string{m.UserName, m.ExternalID, m.GivenName, m.FamilyName, m.DisplayName, m.Role} {
		if strings.IndexByte(v, 0) >= 0 {
			return true
		}
	}
	for _, e := range m.Emails {
		if strings.IndexByte(e.Value, 0) >= 0 || strings.IndexByte(e.Type, 0) >= 0 {
			return true
		}
	}
	return false
}

var emailCols = []string{"member_id", "pos", "org_id", "value", "value_fold", "type", "is_primary"}

func appendEmailRows(rows [][]any, m *orgsync.Member) [][]any {
	for i, e := range m.Emails {
		rows = append(rows, []any{m.ID, i, m.Org, e.Value, orgsync.Fold(e.Value), e.Type, e.Primary})
	}
	return rows
}

// loadMembers fetches the members the changes address by ID.
func (a *applier) loadMembers(cs []orgsync.Change) error {
	var ids []string
	for _, c := range cs {
		if c.MemberID != "" && a.members[c.MemberID] == nil {
			ids = append(ids, c.MemberID)
		}
	}
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		rows, err := a.c.query(`SELECT `+memberCols+`, doc_sum FROM members WHERE `+a.s.dialect.filter("org_id")+` = ? AND id IN (`+placeholders(len(part))+`)`,
			append([]any{a.plan.Org}, toAny(part)...)...)
		if err != nil {
			return err
		}
		ms, err := scanMembersSum(rows, len(part), true)
		if err != nil {
			return err
		}
		if err := a.s.attachEmails(a.c, a.plan.Org, ms); err != nil {
			return err
		}
		for i := range ms {
			a.members[ms[i].ID] = &ms[i]
		}
	}
	return nil
}

func (a *applier) memberChanges(action orgsync.Action, cs []orgsync.Change) error {
	if err := a.loadMembers(cs); err != nil {
		return err
	}
	for _, c := range cs {
		m := a.members[c.MemberID]
		if m == nil {
			a.skip(c, "member no longer exists")
			continue
		}
		if c.Member != nil && hasNUL(c.Member) {
			a.skip(c, errNUL)
			continue
		}
		if err := orgsync.MayApply(a.plan.Owner, action, m); err != nil {
			a.skip(c, err.Error())
			continue
		}
		was := a.counted(m)
		var err error
		switch action {
		case orgsync.ActionAdopt:
			err = a.adopt(c, m)
		case orgsync.ActionUpdate:
			err = a.update(c, m)
		case orgsync.ActionReactivate:
			err = a.reactivate(c, m)
		case orgsync.ActionDeprovision:
			err = a.deprovision(c, m)
		case orgsync.ActionPurge:
			err = a.purge(c, m)
		case orgsync.ActionRekey:
			err = a.rekey(c, m)
		}
		if err != nil {
			return fmt.Errorf("member %q: %w", m.UserName, err)
		}
		a.delta.members += a.counted(a.members[c.MemberID]) - was // nil once purged
	}
	return nil
}

// profile copies the attributes a source or IdP sets from src to dst and
// reports whether anything differed.
func profile(dst *orgsync.Member, src *orgsync.Member, defaultRole string) bool {
	role := src.Role
	if role == "" {
		role = defaultRole
	}
	changed := dst.UserName != src.UserName || dst.GivenName != src.GivenName || dst.FamilyName != src.FamilyName ||
		dst.DisplayName != src.DisplayName || dst.Role != role || !sameEmails(dst.Emails, src.Emails)
	dst.UserName, dst.GivenName, dst.FamilyName, dst.DisplayName, dst.Role = src.UserName, src.GivenName, src.FamilyName, src.DisplayName, role
	dst.Emails = append([]orgsync.Email(nil), src.Emails...)
	return changed
}

func sameEmails(a, b []orgsync.Email) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// saveMember writes the mutable columns of m that may differ from before
// (m as loaded): those of the indexes (user name, external ID, owner)
// only when one of them changed, and the emails when they differ.
//
// On PostgreSQL an update of neither those nor the emails is held back and
// written with others in one statement (flushUpdates): one round trip for
// a batch instead of one per member, which was most of an incremental
// run's apply. The held rows are written before the action's changes end
// (applier.apply calls flushUpdates); until then no statement of the
// apply reads the columns they set.
func (a *applier) saveMember(m, before *orgsync.Member) error {
	keys := m.UserName != before.UserName || m.ExternalID != before.ExternalID || m.Owner != before.Owner
	emails := !sameEmails(m.Emails, before.Emails)
	if a.s.dialect.postgres && !keys && !emails {
		a.updates = append(a.updates, memberUpdateArgs(m))
		if len(a.updates) >= updateBatch {
			return a.flushUpdates()
		}
		return nil
	}
	return a.s.saveMemberRow(a.ctx, a.tx, m, keys, emails)
}

// updateBatch is how many held member UPDATEs one statement writes (13
// parameters each).
const updateBatch = 500

// memberUpdateArgs are the arguments of memberUpdateTail for m: the
// columns no index holds, then the ID.
func memberUpdateArgs(m *orgsync.Member) []any {
	return []any{m.Email(), m.GivenName, m.FamilyName, m.DisplayName, m.Role, string(m.Status),
		nullTime(m.SetupCompletedAt), nullTime(m.DeprovisionedAt), nullTime(m.DeletedAt), m.Version, m.UpdatedAt, m.ID}
}

// flushUpdates writes the held member UPDATEs (PostgreSQL) in one
// statement: UPDATE … FROM a VALUES list, every value typed.
func (a *applier) flushUpdates() error {
	rows := a.updates
	if len(rows) == 0 {
		return nil
	}
	a.updates = a.updates[:0]
	var b strings.Builder
	b.WriteString(`UPDATE members AS m SET email = v.email, given_name = v.given_name, family_name = v.family_name,
		display_name = v.display_name, role = v.role, status = v.status, setup_completed_at = v.setup_completed_at,
		deprovisioned_at = v.deprovisioned_at, deleted_at = v.deleted_at, version = v.version, updated_at = v.updated_at
		FROM (VALUES `)
	args := make([]any, 0, len(rows)*len(rows[0]))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`(?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::timestamp, ?::timestamp, ?::timestamp, ?::bigint, ?::timestamp, ?::text)`)
		args = append(args, r...)
	}
	b.WriteString(`) AS v(email, given_name, family_name, display_name, role, status, setup_completed_at, deprovisioned_at,
		deleted_at, version, updated_at, id) WHERE m.id = v.id`)
	n, err := a.c.exec(b.String(), args...)
	if err != nil {
		return translate(err)
	}
	if n != int64(len(rows)) {
		return fmt.Errorf("%d of %d member updates found their member: %w", n, len(rows), orgsync.ErrNotFound)
	}
	return nil
}

// saveMember writes every mutable column of m and its emails.
func (s *Store) saveMember(ctx context.Context, tx *gorm.DB, m *orgsync.Member) error {
	return s.saveMemberRow(ctx, tx, m, true, true)
}

// The UPDATEs of saveMemberRow: of every mutable column, and of those no
// index holds. SQLite rewrites the entries of every index whose column an
// UPDATE sets, to the same value or not: an incremental run's updates
// (a changed name or title) cost half as much without them.
const (
	memberUpdateTail = `email = ?, given_name = ?, family_name = ?, display_name = ?, role = ?, status = ?,
		setup_completed_at = ?, deprovisioned_at = ?, deleted_at = ?, version = ?, updated_at = ? WHERE id = ?`
	memberUpdateAll  = `UPDATE members SET user_name = ?, user_name_fold = ?, external_id = ?, owner = ?, ` + memberUpdateTail
	memberUpdateRest = `UPDATE members SET ` + memberUpdateTail
)

// saveMemberRow writes the mutable columns of m: with keys, also those of
// the indexes; with emails, its emails too.
func (s *Store) saveMemberRow(ctx context.Context, tx *gorm.DB, m *orgsync.Member, keys, emails bool) error {
	c := s.on(ctx, tx)
	args := make([]any, 0, 16)
	q := memberUpdateRest
	if keys {
		q = memberUpdateAll
		args = append(args, m.UserName, orgsync.Fold(m.UserName), m.ExternalID, m.Owner)
	}
	args = append(args, memberUpdateArgs(m)...)
	n, err := c.exec(q, args...)
	if err != nil {
		return translate(err)
	}
	if n == 0 {
		return fmt.Errorf("member %q: %w", m.ID, orgsync.ErrNotFound)
	}
	if !emails {
		return nil
	}
	if _, err := c.exec(`DELETE FROM member_emails WHERE member_id = ?`, m.ID); err != nil {
		return err
	}
	return c.insert("member_emails", emailCols, appendEmailRows(nil, m), "")
}

func (a *applier) nameTaken(m *orgsync.Member) (string, bool, error) {
	var owner string
	taken, err := a.c.row(`SELECT owner FROM members WHERE org_id = ? AND user_name_fold = ? AND id <> ?`,
		[]any{a.plan.Org, orgsync.Fold(m.UserName), m.ID}, &owner)
	if err != nil || !taken {
		return "", false, err
	}
	return owner, true, nil
}

func (a *applier) adopt(c orgsync.Change, m *orgsync.Member) error {
	if c.Member == nil || c.MemberKey == "" {
		return fmt.Errorf("adopt without member or key: %w", orgsync.ErrInvalid)
	}
	before := *m
	profile(m, c.Member, a.defaultRole)
	if owner, taken, err := a.nameTaken(m); err != nil {
		return err
	} else if taken {
		*m = before
		a.skip(c, fmt.Sprintf("user name is taken by a member owned by %q", orgsync.OwnerName(owner)))
		return nil
	}
	m.Owner, m.ExternalID, m.Version, m.UpdatedAt = a.plan.Owner, c.MemberKey, m.Version+1, a.now
	if _, err := a.saveDoc(c, m); err != nil {
		return err
	}
	if err := a.saveMember(m, &before); err != nil {
		return err
	}
	a.memberKeys[c.MemberKey] = m.ID
	a.out.Counts[orgsync.ActionAdopt]++
	a.event(orgsync.EventMemberAdopted, m.ID, "", before, *m)
	return nil
}

func (a *applier) update(c orgsync.Change, m *orgsync.Member) error {
	if c.Member == nil {
		return fmt.Errorf("update without member: %w", orgsync.ErrInvalid)
	}
	before := *m
	changed := profile(m, c.Member, a.defaultRole)
	// A member holds its own folded name (a unique index): only a new one
	// can be taken.
	if changed && orgsync.Fold(m.UserName) != orgsync.Fold(before.UserName) {
		if owner, taken, err := a.nameTaken(m); err != nil {
			return err
		} else if taken {
			*m = before
			a.skip(c, fmt.Sprintf("new user name is taken by a member owned by %q", orgsync.OwnerName(owner)))
			return nil
		}
	}
	docChanged, err := a.saveDoc(c, m)
	if err != nil {
		return err
	}
	if !changed && !docChanged {
		return nil // already as desired
	}
	m.Version, m.UpdatedAt = m.Version+1, a.now
	if err := a.saveMember(m, &before); err != nil {
		return err
	}
	a.out.Counts[orgsync.ActionUpdate]++
	a.event(orgsync.EventMemberUpdated, m.ID, "", before, *m)
	return nil
}

func (a *applier) reactivate(c orgsync.Change, m *orgsync.Member) error {
	before := *m
	kind := m.Reactivate()
	if kind == "" {
		return nil
	}
	m.Version, m.UpdatedAt = m.Version+1, a.now
	if c.Member != nil {
		profile(m, c.Member, a.defaultRole)
		if _, err := a.saveDoc(c, m); err != nil {
			return err
		}
	}
	if err := a.saveMember(m, &before); err != nil {
		return err
	}
	a.out.Counts[orgsync.ActionReactivate]++
	a.event(kind, m.ID, "", before, *m)
	return nil
}

func (a *applier) deprovision(_ orgsync.Change, m *orgsync.Member) error {
	before := *m
	kind := m.Deprovision(a.now)
	if kind == "" {
		return nil
	}
	m.Version, m.UpdatedAt = m.Version+1, a.now
	if err := a.saveMember(m, &before); err != nil {
		return err
	}
	a.out.Counts[orgsync.ActionDeprovision]++
	a.event(kind, m.ID, "", before, *m)
	return nil
}

// purge deletes m, which MayApply let the plan purge.
func (a *applier) purge(_ orgsync.Change, m *orgsync.Member) error {
	// Its memberships go with it.
	var in int
	if _, err := a.c.row(`SELECT COUNT(*) FROM group_members gm JOIN org_groups g ON g.id = gm.group_id
		WHERE gm.member_id = ? AND g.owner = ? AND g.external_id <> ''`, []any{m.ID, a.plan.Owner}, &in); err != nil {
		return err
	}
	a.delta.memberships -= in
	if _, err := a.c.exec(`DELETE FROM members WHERE id = ?`, m.ID); err != nil {
		return err
	}
	delete(a.members, m.ID)
	a.out.Counts[orgsync.ActionPurge]++
	a.event(orgsync.EventMemberPurged, m.ID, "", *m, nil)
	return nil
}

// saveDoc writes the document (a source's extra attributes) of c's member
// to m when its digest differs (the members Apply loads carry none) and
// reports whether it did.
func (a *applier) saveDoc(c orgsync.Change, m *orgsync.Member) (bool, error) {
	if err := checkDoc(c.Member.Attributes); err != nil {
		return false, err
	}
	if sum := orgsync.AttributesDigestOf(c.Member.Attributes); sum == m.AttributesDigest {
		m.Attributes = c.Member.Attributes
		return false, nil // as loaded: the document is the same
	}
	changed, err := a.s.updateDoc(a.ctx, a.tx, m.ID, c.Member.Attributes)
	if err != nil {
		return false, err
	}
	m.Attributes, m.AttributesDigest = c.Member.Attributes, orgsync.AttributesDigestOf(c.Member.Attributes)
	return changed, nil
}
