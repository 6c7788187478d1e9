package reconciler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/orgsync/orgsync"
)

// diffUsers plans provision, adopt, update and reactivate and deprovision of
// the users the source lists, and holds the entries in conflict and those
// the source held back.
func (d *differ) diffUsers(desired []orgsync.Member, heldBack []orgsync.HeldEntry) {
	n := len(desired)
	d.users = make([]user, n)
	d.userIdx = make(map[string]int32, n)
	// userIdx and seen record first occurrences; the dup maps count the
	// repeats and stay empty for a clean source. seen holds folded names
	// (bit 1) and emails (bit 2): one map, and one entry when a user's
	// name is its email, the usual LDAP setup.
	seen := make(map[string]uint8, n)
	dupKey, dupName, dupEmail := map[string]int{}, map[string]int{}, map[string]int{}
	emails := make([]string, n)
	for i := range desired {
		m := &desired[i]
		u := &d.users[i]
		u.src, u.name, u.obs = m, orgsync.Fold(m.UserName), -1
		if _, ok := d.userIdx[m.ExternalID]; ok {
			dupKey[m.ExternalID]++
		} else {
			d.userIdx[m.ExternalID] = int32(i)
		}
		if m.Status == orgsync.StatusDeprovisioned {
			// A disabled entry never holds an active member, so its email
			// clashes with nobody's (directories keep disabled accounts,
			// address and all, long after a successor is hired). Its user
			// name still counts: names are unique among all members.
			if seen[u.name]&1 != 0 {
				dupName[u.name]++
			}
			seen[u.name] |= 1
			continue
		}
		emails[i] = orgsync.Fold(m.Email())
		bits := seen[u.name]
		if bits&1 != 0 {
			dupName[u.name]++
		}
		if emails[i] == u.name {
			if bits&2 != 0 {
				dupEmail[u.name]++
			}
			seen[u.name] = bits | 3
			continue
		}
		seen[u.name] = bits | 1
		if emails[i] != "" {
			if b := seen[emails[i]]; b&2 != 0 {
				dupEmail[emails[i]]++
			} else {
				seen[emails[i]] = b | 2
			}
		}
	}
	// Held entries count as enabled (their status is not known), so their
	// emails clash too.
	heldKeys := map[string]bool{}
	for i := range heldBack {
		h := &heldBack[i]
		if h.Key != "" {
			if _, ok := d.userIdx[h.Key]; ok || heldKeys[h.Key] {
				dupKey[h.Key]++
			}
			heldKeys[h.Key] = true
		}
		name, email := orgsync.Fold(h.Name), orgsync.Fold(h.Email)
		if name != "" {
			if seen[name]&1 != 0 {
				dupName[name]++
			}
			seen[name] |= 1
		}
		if email != "" {
			if seen[email]&2 != 0 {
				dupEmail[email]++
			}
			seen[email] |= 2
		}
	}
	for i := range heldBack {
		h := &heldBack[i]
		name, email := orgsync.Fold(h.Name), orgsync.Fold(h.Email)
		why := ""
		switch {
		case h.Key != "" && dupKey[h.Key] > 0:
			why = "its external id is shared by another entry"
		case name != "" && dupName[name] > 0:
			why = "its user name is shared by another entry"
		case email != "" && dupEmail[email] > 0:
			why = "its email is shared by another entry"
		}
		d.holdEntry(h, why)
		if h.Status == orgsync.StatusDeprovisioned && h.Key != "" && dupKey[h.Key] == 0 {
			d.suspendHeld(&orgsync.Member{ExternalID: h.Key, Status: h.Status})
		}
	}
	for i := range desired {
		m, u := &desired[i], &d.users[i]
		switch {
		case m.ExternalID == "":
			d.conflict(m, "no external id")
		case m.UserName == "":
			d.conflict(m, "no user name")
		case len(dupKey) > 0 && dupKey[m.ExternalID] > 0:
			d.conflict(m, "external id appears %d times in the source", dupKey[m.ExternalID]+1)
		case len(dupName) > 0 && dupName[u.name] > 0:
			d.conflict(m, "user name appears %d times in the source", dupName[u.name]+1)
		case len(dupEmail) > 0 && emails[i] != "" && dupEmail[emails[i]] > 0:
			d.conflict(m, "email %q appears %d times in the source", m.Email(), dupEmail[emails[i]]+1)
		default:
			d.diffUser(int32(i), emails[i])
			continue
		}
		if len(dupKey) == 0 || dupKey[m.ExternalID] == 0 {
			d.suspendHeld(m)
		}
	}
}

// suspendHeld deprovisions the owned member of a source entry that is in
// conflict (or held by the source) but disabled at the source. The hold
// keeps the entry's profile and memberships, but its key names the member
// unambiguously, and access to a KMS must not outlive the account because
// some other attribute clashes or cannot be read. (With a duplicated key
// nothing is certain: the caller does not ask.)
func (d *differ) suspendHeld(src *orgsync.Member) {
	if src.Status != orgsync.StatusDeprovisioned || src.ExternalID == "" {
		return
	}
	i, ok := d.owned[src.ExternalID]
	if !ok || d.obs[i].Status == orgsync.StatusDeprovisioned {
		return
	}
	d.plan.Changes = append(d.plan.Changes, orgsync.Change{
		Action: orgsync.ActionDeprovision, UserName: d.obs[i].UserName, MemberID: d.obs[i].ID,
		Reason: "disabled at the source (its entry is held)",
	})
}

// diffUser plans the desired user ui, which is valid; email is folded.
func (d *differ) diffUser(ui int32, email string) {
	u := &d.users[ui]
	src := u.src
	u.enabled = src.Status != orgsync.StatusDeprovisioned
	if i, ok := d.owned[src.ExternalID]; ok {
		// Only a rename can collide with another member's name.
		if u.name != orgsync.Fold(d.obs[i].UserName) {
			if h := d.nameHolder(u.name, i); h >= 0 {
				d.conflict(src, "user name %q belongs to another member (%s)", src.UserName, describeOwner(d.obs[h].Owner))
				d.suspendHeld(src)
				return
			}
		}
		u.valid, u.obs, d.matched[i] = true, i, true
		d.diffOwned(u, &d.obs[i])
		return
	}
	if !u.enabled {
		// Disabled at the source and never provisioned: nothing to do.
		u.valid = true
		return
	}
	adoptee := int32(-1)
	if email != "" {
		switch c := d.unowned[email]; len(c) {
		case 0:
		case 1:
			adoptee = c[0]
		default:
			d.conflict(src, "email %q matches %d members with no owner", src.Email(), len(c))
			return
		}
	}
	if h := d.nameHolder(u.name, adoptee); h >= 0 {
		owner := d.obs[h].Owner
		switch {
		case owner == "":
			d.conflict(src, "user name %q belongs to a member with no owner and another email", src.UserName)
		case owner != d.opts.Owner || !d.opts.Recreated.Rekey || adoptee >= 0:
			d.conflict(src, "user name %q belongs to a member owned by %q", src.UserName, owner)
		default:
			if why := d.rekeyRefusal(src, h); why != "" {
				d.conflict(src, "user name %q belongs to a member owned by %q; not re-keyed (recreated_entries): %s", src.UserName, owner, why)
				return
			}
			d.rekey(ui, h)
		}
		return
	}
	u.valid = true
	if adoptee >= 0 {
		u.obs, d.matched[adoptee] = adoptee, true
		d.adopt(u, adoptee)
		return
	}
	// Provisions are many on a first run: kept compact until assemble.
	d.provisions = append(d.provisions, ui)
}

// index returns the index of the observed member with id.
func (d *differ) index(id string) (int32, bool) {
	if d.byID == nil {
		d.byID = make(map[string]int32, len(d.obs))
		for i := range d.obs {
			d.byID[d.obs[i].ID] = int32(i)
		}
	}
	i, ok := d.byID[id]
	return i, ok
}

// nameHolder returns the index of a member other than self that holds the
// folded user name, or -1.
func (d *differ) nameHolder(name string, self int32) int32 {
	if d.byName == nil {
		d.byName = make(map[string][]int32, len(d.obs))
		for i := range d.obs {
			f := orgsync.Fold(d.obs[i].UserName)
			d.byName[f] = append(d.byName[f], int32(i))
		}
	}
	for _, i := range d.byName[name] {
		if i != self {
			return i
		}
	}
	return -1
}

func describeOwner(owner string) string {
	if owner == "" {
		return "no owner"
	}
	return fmt.Sprintf("owned by %q", owner)
}

// adopt takes over an unowned member with the same email; the store sets
// its profile, owner and key, and a deprovisioned adoptee is reactivated in
// the same plan.
func (d *differ) adopt(u *user, i int32) {
	have := &d.obs[i]
	d.adopted[i] = true
	d.plan.Changes = append(d.plan.Changes, orgsync.Change{
		Action: orgsync.ActionAdopt, UserName: u.src.UserName, MemberID: have.ID, MemberKey: u.src.ExternalID,
		Fields: d.fields(have, u.src), Member: d.want(u.src, have.ID, have.Status),
		Reason: fmt.Sprintf("no owner, same email %q", u.src.Email()),
	})
	if have.Status == orgsync.StatusDeprovisioned {
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionReactivate, UserName: u.src.UserName, MemberID: have.ID,
			Member: d.want(u.src, have.ID, have.ReactivatedStatus()),
		})
	}
}

// diffOwned plans the changes of a desired user that has an owned member.
// A reactivation carries the profile changes too (the store applies both at
// once); otherwise they are an update.
func (d *differ) diffOwned(u *user, have *orgsync.Member) {
	f := d.fields(have, u.src)
	switch {
	case u.enabled && have.Status == orgsync.StatusDeprovisioned:
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionReactivate, UserName: u.src.UserName, MemberID: have.ID, Fields: f,
			Member: d.want(u.src, have.ID, have.ReactivatedStatus()),
		})
		return
	case !u.enabled && have.Status != orgsync.StatusDeprovisioned:
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionDeprovision, UserName: u.src.UserName, MemberID: have.ID,
			Reason: "disabled at the source",
		})
	}
	if f != nil {
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionUpdate, UserName: u.src.UserName, MemberID: have.ID, Fields: f,
			Member: d.want(u.src, have.ID, have.Status),
		})
	}
}

// deprovisionMissing suspends owned members the source no longer lists.
func (d *differ) deprovisionMissing() {
	for i := range d.obs {
		m := &d.obs[i]
		if d.matched[i] || m.Owner != d.opts.Owner || m.ExternalID == "" || m.Status == orgsync.StatusDeprovisioned || d.held[m.ExternalID] {
			continue
		}
		if d.heldNames != nil && d.heldNames[orgsync.Fold(m.UserName)] {
			continue // a held entry without a key may be this member's
		}
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionDeprovision, UserName: m.UserName, MemberID: m.ID,
			Reason: "gone from the source",
		})
	}
}

// want is the member a change sets: the source's attributes with the role
// resolved. Status is the status after the change.
func (d *differ) want(src *orgsync.Member, id string, status orgsync.Status) *orgsync.Member {
	m := &orgsync.Member{}
	d.fill(m, src, id, status, slices.Clone(src.Emails))
	return m
}

// fill sets m to the member a change sets (see want), with emails, a copy
// of the source's.
func (d *differ) fill(m *orgsync.Member, src *orgsync.Member, id string, status orgsync.Status, emails []orgsync.Email) {
	*m = orgsync.Member{
		ID: id, Org: d.opts.Org, UserName: src.UserName, ExternalID: src.ExternalID,
		Emails:    emails,
		GivenName: src.GivenName, FamilyName: src.FamilyName, DisplayName: src.DisplayName,
		Attributes: src.Attributes, AttributesDigest: orgsync.AttributesDigestOf(src.Attributes),
		Role: d.opts.role(src.Role), Status: status, Owner: d.opts.Owner,
	}
}

// fields names the attributes of have that differ from the source's, or nil.
func (d *differ) fields(have, src *orgsync.Member) map[string]orgsync.FieldChange {
	var f map[string]orgsync.FieldChange
	set := func(name, from, to string) {
		if from == to {
			return
		}
		if f == nil {
			f = map[string]orgsync.FieldChange{}
		}
		f[name] = orgsync.FieldChange{From: from, To: to}
	}
	set("user_name", have.UserName, src.UserName)
	if set("email", have.Email(), src.Email()); f["email"] == (orgsync.FieldChange{}) && !slices.Equal(have.Emails, src.Emails) {
		set("emails", emailList(have.Emails), emailList(src.Emails))
	}
	set("given_name", have.GivenName, src.GivenName)
	set("family_name", have.FamilyName, src.FamilyName)
	set("display_name", have.DisplayName, src.DisplayName)
	set("role", have.Role, d.opts.role(src.Role))
	// The snapshot carries the stored document's digest only: the change
	// shows the new document, not the old one.
	if have.AttributesDigest != orgsync.AttributesDigestOf(src.Attributes) {
		set("attributes", "(changed)", string(src.Attributes))
	}
	return f
}

// emailList is the text of all addresses, the primary one marked.
func emailList(es []orgsync.Email) string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.Value)
		if e.Type != "" {
			b.WriteString(" (" + e.Type + ")")
		}
		if e.Primary {
			b.WriteString(" *")
		}
	}
	return b.String()
}
