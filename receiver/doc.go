// Package receiver is the SCIM 2.0 service provider (RFC 7643/7644) that
// IdPs — JumpCloud, Okta, Microsoft Entra ID, OneLogin, Google Workspace —
// push users and groups to.
//
// The bearer token selects the org; a token of one org never sees another
// (404, as if the resource did not exist). Everything the receiver writes is
// owned by "scim": members and groups of pull sources are invisible to it,
// and a create that would take one over is a 409 uniqueness error naming
// its owner. Every User carries the read-only KMS extension
// (urn:hanzo:params:scim:schemas:extension:kms:2.0:User: setupStatus,
// setupCompleted); a Group lists its members who have not created their
// master key yet under the KMS Group extension (pendingMembers).
//
// The receiver accepts the dialects IdPs are known to send (capitalised
// PATCH ops, "True"/"False" strings, dotted and URN-qualified path-less
// keys, value-path adds that create the element, Entra-style member removal
// with a value array) and answers every bad input with a SCIM error and a
// 4xx status: bodies are limited in size, nesting depth and array length
// before they are decoded, filters are translated exactly or refused (400
// invalidFilter, never an unfiltered list; nesting deeper than 10
// parentheses or brackets is refused before parsing), and repeated failed
// authentication from one address is answered with 429 and Retry-After.
//
// Policy decisions (see the tests for each):
//   - Discovery endpoints (ServiceProviderConfig, ResourceTypes, Schemas)
//     carry no org data and answer without a token, but a token that is sent
//     must be valid (401 otherwise), so an IdP's "test connection" against
//     discovery fails with a wrong token.
//   - Group PATCH answers 204 unless the request asks for attributes.
//     remove members without a value removes every member (RFC 7644);
//     with "value": null it is 400 invalidValue, never "all".
//   - DELETE of a user keeps it as a tombstone (404 to SCIM) and drops
//     its group memberships; a POST of its userName revives it only with
//     the same externalId, otherwise it is a new pending_setup user.
//   - Users are lossless: every attribute of the core User schema and of
//     the enterprise extension (internal/scimattr.UserDoc, EnterpriseDoc)
//     is stored (the core columns, the rest in the member's document),
//     returned, filtered, projected and patched; schemas lists the
//     enterprise URN when the user carries it. A wrong type is 400
//     invalidValue naming the attribute, with nothing written; a PATCH
//     path naming an unknown attribute is 400 invalidPath (a path-less
//     value's unknown keys, like a body's, are ignored). A multi-valued
//     attribute holds at most 100 values, a document at most 64 KiB (413).
//   - password is accepted and dropped; unknown attributes and schema URNs
//     are ignored, never stored; id, meta and groups are read-only.
//   - Sorting is not supported (declared so); lists have a stable order
//     across pages (users by userName, or by id when filtered; groups by
//     displayName).
//   - Group reads with members are bounded (heavy.go): a list carries the
//     members of its leading groups up to Options.MaxListMembers (10,000)
//     and lists the others without "members" — whole groups only, never a
//     part of one; a GET of one group up to MaxGroupMembers (100,000); both
//     declared in ServiceProviderConfig under the KMS extension. Lists are
//     streamed; each org runs at most HeavyPerOrg such reads at once, and
//     one more is 503 with Retry-After after HeavyWait.
//   - A store that cannot get its write lock in time (orgsync.ErrUnavailable)
//     is 503 with Retry-After, never 500.
package receiver
