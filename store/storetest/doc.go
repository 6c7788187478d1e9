// Package storetest is the conformance suite of the store, after dex's
// storage/conformance: one set of subtests that every implementation of
// the store's consumer interfaces passes. It is written against those
// interfaces, never a concrete store: Store (reconciler.Store, what the
// runs need) for every backend, and the capabilities a backend declares
// besides (SCIM: receiver.OwnerView, through Backend.SCIM; Admin: admin.Store; Claims:
// reconciler.Claimer; Operator: what orgsync's commands use directly). A
// subtest, or a part of one, that needs a capability the backend does not
// declare is skipped and says which; a declared capability the store does
// not implement fails the run.
//
// store runs it against SQLite and PostgreSQL, reconciler/reconcilertest
// against the reconciler's in-memory fake; where the fake and the SQL store
// disagree, the SQL store is the reference. What only the SQL store has
// (schema migrations, PostgreSQL's advisory locks, token hashes at rest)
// is tested in store's own tests.
package storetest
