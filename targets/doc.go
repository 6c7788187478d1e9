// Package targets keeps a downstream system converged with orgsync's
// store: a target is one org of a SCIM service provider (a Hanzo KMS org
// with type kms-scim, any RFC SCIM server with type scim), and orgsync's
// org is its desired state.
//
// A target run is a reconciler run with the roles turned round: the
// desired Snapshot is read from the store (every member of every owner,
// keyed by orgsync's member id; deprovisioned and SCIM-deleted members as
// disabled), and the observed one from the target (its users and groups,
// read whole or not at all). reconciler.Diff computes the same Plan as for
// a source, the same guards check it, and Apply executes it against the
// target with bounded concurrency. So a dry run of a target is the Plan it
// prints, and a run after a successful run plans nothing.
//
// # Links
//
// The target's ids (KMS org-membership ids, group ids) are kept in the
// store's target_links. A target resource with no link is matched to the
// member of its userName (the group of its displayName) and linked the
// next time a plan is applied; one matching nothing is not orgsync's and
// is never touched. A link whose resource is gone from the target is
// dropped, and the member is provisioned again. Because every create is
// linked at once and an unlinked resource is matched by name, a run killed
// mid-apply creates no duplicates when the next one runs.
//
// # Lifecycle
//
// Deprovisioned in orgsync is suspended (active false) in the target; a
// member purged from orgsync is deleted from the target only when the
// target sets allow_purge (else it stays suspended). A target that lists
// no users while orgsync holds links for it is refused as an empty read
// (orgsync.ErrGuard) unless guard.allow_empty is set: a wrong token or org
// looks the same. With setup_status, members the KMS reports as accepted
// become active in orgsync, with the target as the event actor.
//
// # TLS
//
// The target's URL and setup_status's are HTTPS servers verified as the
// sources' are (TLSConfig, through internal/tlsconf): a refused
// certificate is a CertError naming the setting to change, never retried;
// insecure_skip_verify is logged as a warning whenever the target opens.
// Redirects are followed only within the URL's origin.
package targets
