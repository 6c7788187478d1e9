package store

import (
	"context"

	"github.com/orgsync/orgsync"
)

// OwnerView is the store as the transport of one owner sees it: only the
// members and groups that owner owns, with the contracts of the SCIM*
// methods it forwards to (see scim.go). The SCIM receiver, owner "scim",
// is the one such transport; Store.SCIM returns its view.
type OwnerView struct{ s *Store }

// SCIM returns the view of owner "scim", what the SCIM receiver needs.
func (s *Store) SCIM() OwnerView { return OwnerView{s} }

// Authenticate is Store.Authenticate.
func (v OwnerView) Authenticate(ctx context.Context, token string) (orgsync.Token, error) {
	return v.s.Authenticate(ctx, token)
}

// Member is Store.SCIMMember.
func (v OwnerView) Member(ctx context.Context, org, id string) (orgsync.Member, error) {
	return v.s.SCIMMember(ctx, org, id)
}

// Members is Store.SCIMMembers.
func (v OwnerView) Members(ctx context.Context, org string, q orgsync.Query) ([]orgsync.Member, int, error) {
	return v.s.SCIMMembers(ctx, org, q)
}

// CreateMember is Store.SCIMCreateMember.
func (v OwnerView) CreateMember(ctx context.Context, org string, m orgsync.Member) (orgsync.Member, error) {
	return v.s.SCIMCreateMember(ctx, org, m)
}

// UpdateMember is Store.SCIMUpdateMember.
func (v OwnerView) UpdateMember(ctx context.Context, org, id string, ifVersion int64, change func(*orgsync.Member) error) (orgsync.Member, error) {
	return v.s.SCIMUpdateMember(ctx, org, id, ifVersion, change)
}

// DeleteMember is Store.SCIMDeleteMember.
func (v OwnerView) DeleteMember(ctx context.Context, org, id string, ifVersion int64) error {
	return v.s.SCIMDeleteMember(ctx, org, id, ifVersion)
}

// Group is Store.SCIMGroup.
func (v OwnerView) Group(ctx context.Context, org, id string, members bool) (orgsync.Group, map[string]orgsync.Member, error) {
	return v.s.SCIMGroup(ctx, org, id, members)
}

// Groups is Store.SCIMGroups.
func (v OwnerView) Groups(ctx context.Context, org string, q orgsync.Query, members bool) ([]orgsync.Group, map[string]orgsync.Member, int, error) {
	return v.s.SCIMGroups(ctx, org, q, members)
}

// GroupsMembers is Store.SCIMGroupsMembers.
func (v OwnerView) GroupsMembers(ctx context.Context, org string, groupIDs []string, budget int) (map[string][]orgsync.Member, error) {
	return v.s.SCIMGroupsMembers(ctx, org, groupIDs, budget)
}

// CreateGroup is Store.SCIMCreateGroup.
func (v OwnerView) CreateGroup(ctx context.Context, org string, g orgsync.Group) (orgsync.Group, error) {
	return v.s.SCIMCreateGroup(ctx, org, g)
}

// UpdateGroup is Store.SCIMUpdateGroup.
func (v OwnerView) UpdateGroup(ctx context.Context, org, id string, ifVersion int64, p orgsync.GroupPatch) (orgsync.Group, error) {
	return v.s.SCIMUpdateGroup(ctx, org, id, ifVersion, p)
}

// DeleteGroup is Store.SCIMDeleteGroup.
func (v OwnerView) DeleteGroup(ctx context.Context, org, id string, ifVersion int64) error {
	return v.s.SCIMDeleteGroup(ctx, org, id, ifVersion)
}
