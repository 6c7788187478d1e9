// Package kmsadmin reads who finished account setup in a Hanzo KMS, from
// its instance-admin API: a machine identity that is a super-admin logs in
// with universal auth (client id and secret, never logged) and lists every
// organization's memberships with their status, "invited" or "accepted".
// Accepted means the user created their master key.
//
// The SCIM API carries no setup status, and the org-membership routes
// answer nothing to machine identities, which is why this second client
// exists. The listing (paged by offset and limit, at most 100) is read
// whole or not at all. Its shape, organizations[].members[] with
// membershipId and status, is the one the KMS's admin router declares.
//
// Errors: a refused login or listing is orgsync.ErrUnauthorized and says
// which setting to change (the client id and secret, or the super-admin
// role); a 5xx or 429 and an unreachable KMS are orgsync.ErrUnavailable; a
// member without membershipId is orgsync.ErrInvalid. An error body is
// quoted (300 bytes at most) with the client secret and access token cut
// out. A listing that stops short of its total, or whose next page repeats
// the organizations already listed (offset ignored), fails: never an
// endless loop, never a partial map. Nothing is retried; the caller's
// schedule is the retry.
package kmsadmin
