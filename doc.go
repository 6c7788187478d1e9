// Package orgsync holds the domain of orgsync: the members and groups of a
// KMS organisation, their lifecycle, the desired Snapshot a source reads,
// and the Plan that converges the store toward it.
//
// It depends on the standard library only. Every adapter (store, sources,
// receiver) speaks these types; none of them imports another.
//
// Member lifecycle per org:
//
//	pending_setup  provisioned, but the user has not created a master key yet
//	active         master key created (the KMS reported setup complete)
//	deprovisioned  access revoked by the member's owner; data kept
//
// Reactivation returns a member to active when setup was ever completed, and
// to pending_setup otherwise. orgsync never sees or holds keys.
//
// The transitions are methods of Member (Deprovision, Reactivate, SetActive,
// Delete, Revive, CompleteSetup; lifecycle.go), each returning the kind of
// the event that records it, and MayApply says which owner may apply which
// action to a member (MayChangeGroup to a group): the store, the reconciler
// and the reconciler's in-memory fake all decide with them.
package orgsync
