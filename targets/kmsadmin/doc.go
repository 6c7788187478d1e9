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
package kmsadmin
