package store

import (
	"context"
	"fmt"
	"sort"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// Every member and group has an owner: "scim" for what IdPs push, else the
// name of the source that provisioned it. A source is known by its name
// alone, so renaming or removing it in the config leaves its members with
// an owner nobody reconciles any more: they keep their access and no run
// deprovisions them. Owners lists what each owner holds so that such
// orphans can be shown, and RenameOwner hands them to the new name.

// OwnerCount is what one owner holds in one org.
type OwnerCount struct {
	Org   string `json:"org"`
	Owner string `json:"owner"`
	// Members counts every member row, deprovisioned and SCIM-deleted
	// ones included; Live those neither (they have access).
	Members int `json:"members"`
	Live    int `json:"live"`
	Groups  int `json:"groups"`
}

// OwnerNames lists the owners that hold members or groups in each org,
// as OwnerCount without counts, in no order: by the owner indexes alone,
// which a listing of every member's row (Owners) costs many times over in a
// large org.
func (s *Store) OwnerNames(ctx context.Context) ([]OwnerCount, error) {
	var out []OwnerCount
	seen := map[OwnerCount]bool{}
	for _, table := range []string{"members", "org_groups"} {
		err := s.pool(ctx).each(`SELECT DISTINCT org_id, owner FROM `+table, nil, func(scan func(...any) error) error {
			var o OwnerCount
			if err := scan(&o.Org, &o.Owner); err != nil {
				return err
			}
			if !seen[o] {
				seen[o] = true
				out = append(out, o)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("store: list the owners of %s: %w", table, err)
		}
	}
	return out, nil
}

// Owners counts the members and groups of every owner of every org (or of
// org), ordered by org and owner.
func (s *Store) Owners(ctx context.Context, org string) ([]OwnerCount, error) {
	where, args := "", []any{}
	if org != "" {
		where, args = " WHERE org_id = ?", []any{org}
	}
	type count struct {
		OrgID, Owner string
		N, Live      int
	}
	db := s.pool(ctx)
	var members []count
	if err := db.each(`SELECT org_id, owner, COUNT(*) AS member_count,
		SUM(CASE WHEN status <> ? AND deleted_at IS NULL THEN 1 ELSE 0 END) AS live_count
		FROM members`+where+` GROUP BY org_id, owner`, append([]any{string(orgsync.StatusDeprovisioned)}, args...),
		func(scan func(...any) error) error {
			var r count
			if err := scan(&r.OrgID, &r.Owner, &r.N, &r.Live); err != nil {
				return err
			}
			members = append(members, r)
			return nil
		}); err != nil {
		return nil, fmt.Errorf("store: count members by owner: %w", err)
	}
	var groups []count
	if err := db.each(`SELECT org_id, owner, COUNT(*) AS group_count FROM org_groups`+where+` GROUP BY org_id, owner`, args,
		func(scan func(...any) error) error {
			var r count
			if err := scan(&r.OrgID, &r.Owner, &r.N); err != nil {
				return err
			}
			groups = append(groups, r)
			return nil
		}); err != nil {
		return nil, fmt.Errorf("store: count groups by owner: %w", err)
	}
	type key struct{ org, owner string }
	byKey := map[key]*OwnerCount{}
	var out []OwnerCount
	get := func(org, owner string) *OwnerCount {
		k := key{org, owner}
		if c, ok := byKey[k]; ok {
			return c
		}
		c := &OwnerCount{Org: org, Owner: owner}
		byKey[k] = c
		return c
	}
	for _, m := range members {
		c := get(m.OrgID, m.Owner)
		c.Members, c.Live = m.N, m.Live
	}
	for _, g := range groups {
		get(g.OrgID, g.Owner).Groups = g.N
	}
	for _, c := range byKey {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Org != out[j].Org {
			return out[i].Org < out[j].Org
		}
		return out[i].Owner < out[j].Owner
	})
	return out, nil
}

// Renamed is what RenameOwner moved.
type Renamed struct {
	Org     string `json:"org"`
	From    string `json:"from"`
	To      string `json:"to"`
	Members int    `json:"members"`
	Groups  int    `json:"groups"`
}

// RenameOwner hands every member and group that owner from holds in org to
// owner to, in one transaction with one source.renamed event (actor
// actor). Each moved row's version is bumped: its owner changed.
//
// It refuses (ErrNotFound) when from owns nothing in org, and (ErrConflict)
// when to already owns something there, unless merge is set; merging still
// refuses when a member or group of from has the external key of one of
// to's, since one source cannot own two of one key. The reserved owners
// (orgsync.ReservedOwner, and none) are the caller's to refuse.
func (s *Store) RenameOwner(ctx context.Context, org, from, to, actor string, merge bool) (Renamed, error) {
	out := Renamed{Org: org, From: from, To: to}
	if from == to || from == "" || to == "" {
		return out, fmt.Errorf("store: rename owner %q to %q: %w", from, to, orgsync.ErrInvalid)
	}
	err := s.write(ctx, func(tx *gorm.DB) error {
		count := func(table, owner string) (int, error) {
			var n int
			_, err := s.in(tx).row(`SELECT COUNT(*) FROM `+table+` WHERE org_id = ? AND owner = ?`, []any{org, owner}, &n)
			return n, err
		}
		fromMembers, err := count("members", from)
		if err != nil {
			return err
		}
		fromGroups, err := count("org_groups", from)
		if err != nil {
			return err
		}
		if fromMembers+fromGroups == 0 {
			return fmt.Errorf("%q owns no member or group in org %q: %w", from, org, orgsync.ErrNotFound)
		}
		toMembers, err := count("members", to)
		if err != nil {
			return err
		}
		toGroups, err := count("org_groups", to)
		if err != nil {
			return err
		}
		if toMembers+toGroups > 0 {
			if !merge {
				return fmt.Errorf("%q already owns %d members and %d groups in org %q (did a run of it happen already?): %w",
					to, toMembers, toGroups, org, orgsync.ErrConflict)
			}
			for _, table := range []string{"members", "org_groups"} {
				var clash int
				if _, err := s.in(tx).row(`SELECT COUNT(*) FROM `+table+` a JOIN `+table+` b ON b.org_id = a.org_id AND b.external_id = a.external_id
					WHERE a.org_id = ? AND a.owner = ? AND b.owner = ? AND a.external_id <> ''`, []any{org, from, to}, &clash); err != nil {
					return err
				}
				if clash > 0 {
					return fmt.Errorf("%d %s of %q have the external key of one of %q's: cannot merge: %w",
						clash, map[string]string{"members": "members", "org_groups": "groups"}[table], from, to, orgsync.ErrConflict)
				}
			}
		}
		now := s.Now()
		for _, table := range []string{"members", "org_groups"} {
			if _, err := s.in(tx).exec(`UPDATE `+table+` SET owner = ?, version = version + 1, updated_at = ? WHERE org_id = ? AND owner = ?`,
				to, now, org, from); err != nil {
				return err
			}
		}
		out.Members, out.Groups = fromMembers, fromGroups
		return s.appendEvents(ctx, tx, []eventRow{{org: org, actor: actor, kind: orgsync.EventSourceRenamed,
			before: map[string]any{"owner": from}, after: map[string]any{"owner": to, "members": fromMembers, "groups": fromGroups, "merged": toMembers + toGroups}}})
	})
	if err != nil {
		return Renamed{Org: org, From: from, To: to}, fmt.Errorf("store: rename owner %q to %q in org %q: %w", from, to, org, err)
	}
	return out, nil
}
