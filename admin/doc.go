// Package admin is the operator and KMS facing HTTP API under /api/v1:
// members of an org (with the pending_setup flag), marking a member's
// master-key setup complete, reconcile runs (listed, or one with its plan),
// approving a run a guard blocked (Options.Approve applies its recorded
// plan while it is current; 409 with a reason otherwise), and the
// membership event feed the KMS follows with an `after` cursor.
//
// Every request needs `Authorization: Bearer {admin_token}`, compared in
// constant time. SCIM tokens are not admin tokens and vice versa. A client
// address with 20 failed authentications within a minute gets 429 with
// Retry-After until the minute ends (Options). Errors are JSON
// {"error": "..."} with 400 (malformed input), 401, 404 (unknown org,
// member or run), 409 (a member whose state forbids the change) or 429; no
// error changes the store.
package admin
