// Package reconcilertest holds the reconciler's test doubles that other
// packages' tests use too: Store, an in-memory reconciler.Store of one org.
// Store is held to the real store's semantics by the store conformance
// suite (store/storetest), run against it by this package's tests; where
// the two differ, the real store is right.
package reconcilertest
