// Package ldap is the LDAP source: it reads the complete desired Snapshot of
// one org from an OpenLDAP or Active Directory server, or fails.
//
// Contract:
//   - Snapshot returns every in-scope user and every group, or an error. A
//     refused bind, a failed page, a size or time limit, a referral, a
//     response without the paged-results control, or a truncated ranged
//     attribute (AD's member;range=…) is an error, never a shorter Snapshot.
//   - No entry that was read is left out (left out, it would read as gone
//     and its member be deprovisioned). An entry that cannot be used — no
//     id, no user name, an unreadable objectGUID or userAccountControl, a
//     group without name, a group nesting a group held without an id, a
//     memberUid value naming several users (uid_attribute) — is
//     returned in Snapshot.HeldUsers or HeldGroups, with its DN and the
//     attribute at fault, for the reconciler to keep what it names as it
//     is. Entries sharing an id or user name, and groups sharing a name, are
//     all returned as they are (and warned about) for the reconciler to hold
//     as conflicts. A held user matching disabled_filter is returned with
//     HeldEntry.Status deprovisioned (suspended all the same). An in-scope
//     entry with neither id nor name fails the read: it names nothing that
//     could be kept.
//   - A search returning more than ldap.max_entries entries (or a group
//     more ranged member values than that: a range that never ends), or a
//     message over ldap.max_message_bytes (refused from its length, before
//     it is buffered) fails the read: these bound a read's memory, and the
//     error names the setting.
//   - Users matching disabled_filter (and, with flavor ad, a userAccountControl
//     with bit 0x2 set or an accountExpires in the past) come back with
//     StatusDeprovisioned; all others with StatusActive.
//   - Members of a Group are the ExternalIDs of its direct in-scope users;
//     Subgroups the ExternalIDs of its direct member groups (nested: true).
//     require_group and role_map follow nesting when nested is true and are
//     cycle-safe.
//   - Every error names the source and the config key to look at.
//
// Results are streamed page by page and mapped at once to small structs, so
// memory grows with the number of users, not with the response sizes.
//
// The source talks to the server through its own three-method conn
// interface. The implementation is the wire client of internal/wire, a
// one-operation-at-a-time LDAPv3 client that decodes responses in place
// from a reused buffer (its package doc says why and what it promises);
// errors are *goldap.Error, and DNs are parsed and escaped with go-ldap.
// The source turns the client's errors into ones that name the config key
// (a refused message names ldap.max_message_bytes).
package ldap
