// Package storetest is the conformance suite every store backend passes:
// the same subtests run against SQLite and a real PostgreSQL.
package storetest
