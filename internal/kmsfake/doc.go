// Package kmsfake is a test double of a Hanzo KMS (an Infisical fork) as
// orgsync's KMS target sees it, built from the KMS's documented and
// observed behaviour, not from its code:
//
//   - SCIM under /api/v1/scim with one org's bearer token; 403 while SCIM
//     is disabled, 400 "Neither SAML or OIDC SSO is configured" while the
//     org has no SSO;
//   - a SCIM user is an org membership: its id is the membership id, it is
//     created "invited" (an invitation is counted), and the SCIM documents
//     carry no setup status; active false suspends; a create needs an
//     email, and a create of an existing userName answers with the existing
//     membership unchanged (and invites again); a group create of an
//     existing displayName is a 409;
//   - lists page by startIndex and count (at most 100), with the page's
//     length as totalResults (the KMS's, not RFC 7644's);
//   - groups hold membership ids; a member that has not finished setup is
//     held as pending and converted when they accept;
//   - concurrent PATCHes of one group race: each reads the group, waits
//     PatchDelay and writes it whole, so the last write wins;
//   - the instance-admin API: universal-auth login with a client id and
//     secret, and the organizations listing with each membership's status;
//   - 429 with Retry-After past a rate limit, and a Fail hook to answer
//     any request with an error (a KMS failing mid-apply).
//
// Accept is the test hook of a user finishing account setup. A second
// org (Unmanaged) lets tests place users orgsync must not touch.
package kmsfake
