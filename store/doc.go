// Package store keeps the membership of every org orgsync manages: members,
// groups and group members, SCIM tokens (hashes only), reconcile runs, and
// an append-only event log of every membership change.
//
// It runs on gorm over SQLite (the embedded default, in WAL mode) or
// PostgreSQL (for several replicas). gorm owns the connections and the
// transactions; every statement goes through the one helper layer of
// sql.go, which writes placeholders for the dialect and keeps the pool's
// statements prepared; on PostgreSQL a write transaction's bulk inserts go
// as COPY, and an apply that fills the members table analyses it in its
// transaction (apply_stats.go). Every write happens in a transaction
// that also appends its events, so the feed never misses or invents a
// change. Writes are serialised per database (an in-process lock and
// BEGIN IMMEDIATE on SQLite, an advisory transaction lock on PostgreSQL),
// which keeps event sequence numbers in commit order: a reader resuming
// after sequence N never skips an event that commits later. On SQLite a
// writer waits at most database.busy_timeout for either lock, then fails
// with ErrUnavailable having written nothing.
//
// Authenticate only reads: the use of a token is noted in memory and
// written to last_used_at by a background goroutine, coalesced, within
// seconds and at Close (tokenuse.go), so that authenticating never waits
// for a writer.
//
// On SQLite, the write-ahead log is copied into the database file by a
// background checkpoint (sqlite.go) rather than by the commit that fills
// it, and a whole org is read as one joined column per row (joined.go):
// the cgo driver's cost is per column and per statement, so bulk writes use
// multi-row statements and bulk reads few columns.
//
// SCIM-deleted members are kept as tombstones (deprovisioned, DeletedAt
// set, without group memberships) until the purge removes them; Members
// lists them, SCIM does not. A SCIM create with a tombstone's userName
// revives it only for the same externalId (both empty counts as the same);
// for anyone else the tombstone is renamed to orgsync.RetiredUserName (a
// member.updated event records it) and a new pending_setup member is made:
// setup state and memberships never pass to another identity.
//
// Case-insensitive SCIM filters compare as Go's strings.ToLower does, on
// both databases (dialect.lower), and never trim the value.
//
// Owners counts what each owner holds, and RenameOwner hands one owner's
// members and groups to another in one transaction (owners.go): a source is
// known by its name, so renaming it in the config needs that hand-over.
//
// Cursor and ApplyCursor keep one cursor per source (cursors.go): where its
// last applied read left off, for incremental reads. The cursor is opaque
// here (its state, in source_states, too) and only ever saved by the
// transaction that applies a run's plan, an empty plan included; a failed
// apply leaves it as it was. Its Settled part gets the store's last event
// Seq (StoreSeq) in that transaction, and is dropped when the apply skipped
// a change. A State saved with a patch against the stored one
// (Cursor.StatePatch) is kept as that patch while the patches since the
// last whole State stay few and small (source_state_patches); the cursor
// row names the State they give (state_id), and Cursor rebuilds and checks
// it, returning no State when it does not rebuild.
//
// Errors are translated at this edge to the domain kinds of package orgsync:
// ErrNotFound, ErrConflict (uniqueness, owner), ErrPrecondition (version),
// ErrInvalid, ErrUnavailable (SQLite's lock not had in time).
//
// The schema is versioned (migrate.go); Open upgrades an older database in
// place and refuses one newer than this build knows.
package store
