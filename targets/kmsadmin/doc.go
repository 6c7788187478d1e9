// Package kmsadmin reads who finished account setup in a Hanzo KMS, from
// its instance-admin API: a machine identity that is a super-admin logs in
// with universal auth (client id and secret, never logged) and lists every
// organization's memberships with their status, "invited" or "accepted".
// Accepted means the user created their master key.
//
// The SCIM API carries no setup status, and the org-membership routes
// answer nothing to machine identities, which is why this second client
// exists. The listing is read whole or not at all. The response shape
// follows the KMS's public source as read; see docs/config.md for what is
// verified.
package kmsadmin
