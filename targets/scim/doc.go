// Package scim is the client side of a SCIM 2.0 target: the calls orgsync
// makes to converge a service provider's Users and Groups (any RFC 7644
// server with dialect "scim", a Hanzo KMS org with dialect "kms-scim").
//
// Reads are all or nothing: Users and Groups page through the whole
// collection and fail on any failed or short page, never returning less.
// The KMS reports each page's length as totalResults, so with dialect
// kms-scim the pages are read until an empty one (one request more than
// the pages, and no page it cuts short is taken for the end).
// Every request carries the bearer token (never logged), waits for the
// client's rate limit, and is retried when the server answers 429 or 503
// (after its Retry-After), or, for reads only, on a transport error or a
// 5xx: a write that failed is not sent again within the run, so a 500
// mid-apply fails the run and the next run converges from a fresh read.
//
// Deletes are idempotent (404 is success). Group member changes go in one
// PATCH per group, with the member list in the value (the form the KMS and
// Entra-style servers both take). Errors wrap orgsync.ErrNotFound,
// ErrConflict (409: the userName or displayName exists), ErrUnauthorized
// (401, 403) or ErrUnavailable (the retries ran out).
package scim
