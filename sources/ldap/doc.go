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
// # Incremental reads
//
// Source also implements reconciler.Incremental (SnapshotFrom). The design
// keeps the reconciler's contract whole: an incremental read still computes
// the complete Snapshot, so the reconciler diffs, guards and plans exactly
// as after a full read, and an incremental plan is by construction the plan
// a full read would make of the same directory. Only when the reconciler
// asks for a part (reconciler.ReadRequest.Part: a settled org planned from
// a scope) and the read names its Scope are the members built for their
// digests alone: the Snapshot returned holds no member, and Read.Rest
// builds those of given keys, or all of them, when asked (resolve.go,
// rest). Such a build keeps the stored digest of every user whose record
// did not change while the users and groups are the same ones (keys, DNs,
// no group changed), but for users with accountExpires and those whose
// manager changed (storedDigestsHold, keptDigests). A source a daemon
// keeps (KeepDecodedState) holds its last state decoded between reads and
// starts from it when the cursor's state is those very bytes, which the
// store then need not hand back (HeldState, reconciler.StateHolder). While
// the users and groups are those of the kept state, such a read also takes
// the kept read's index by DN, its duplicate check's key hashes for the
// records that did not change, and (every user a group member as then)
// the Snapshot's groups and group digests (snapGroups); its Rest restricts
// the groups to a scoped plan's users by index (GroupsOf). What changes
// is how the Snapshot is obtained:
//
//   - The cursor's State is the raw directory as last read (users and
//     groups in server order, member values unresolved, the disabled_filter
//     and userAccountControl verdicts, AD's raw accountExpires, the
//     enterprise attributes), the digest of what each entry became in the
//     Snapshot computed with it, and the sync cookies (state.go). The
//     Snapshot is always computed from such a raw state by the same code
//     (link, then snapshot: nesting, require_group, role_map, duplicates,
//     held entries), whether it was read whole or merged. An incremental
//     read hands the new State over with a patch against the stored one
//     (Cursor.StatePatch: the unchanged records it copied, and the others
//     literally), which the store keeps in place of the whole State.
//   - The position is read first: OpenLDAP's contextCSN of the naming
//     context holding user.base_dn (kept by the syncprov overlay), AD's
//     highestCommittedUSN with the DC's dnsHostName and invocationId. An
//     unchanged position means nothing at all changed: the stored state is
//     used as is, without a search (not on a server that refused the sync
//     control: without syncprov its contextCSN need not move).
//   - Otherwise the entries changed since the cursor are searched
//     ((entryCSN>=cursor) or (uSNChanged>=cursor), ANDed with the filters),
//     and deletions are found one of two ways:
//   - By RFC 4533 sync refresh (refreshOnly, go-ldap's Syncrepl on a second
//     connection, no attributes asked, while the changed entries are
//     searched for on the first) from the cookies of the last read,
//     with flavor openldap when the ids are entryUUID and no filter uses
//     memberOf: syncprov names what left each search's content (deleted,
//     moved out of the base, modified out of the filter) in a syncIdSet
//     from its session log, or, when the log does not reach back, names
//     every entry present (a present phase: the rest is gone). A stored
//     entry is replaced by its changed entry (by entryUUID: renames too),
//     dropped when named gone, kept otherwise; disabled_filter is asked of
//     the changed entries only. A full read takes the cookies (a refresh
//     of the base entry alone) before anything else is read.
//   - By a keys-only listing of the users and the groups (DN and id
//     attribute, nothing else) and the disabled_filter listing, otherwise:
//     flavor ad, other ids, memberOf in a filter, a stored entry without
//     entryUUID, and, with a warning, a refresh the server refuses (the
//     control unsupported, e-syncRefreshRequired, a cookie it rejects or
//     answers without a new one). The merged state is then the listing,
//     in its order, each entry taken from the changed ones or else from
//     the stored state. A listed entry in neither (brought into scope by
//     a filter on memberOf, whose changes do not touch the entry) is read
//     on its own, up to 500 of them. New cookies are taken before the
//     listing, so the next read tries the refresh again.
//   - Either way, when a stored entry is gone, renamed or re-created, all
//     groups are read again: referential integrity (refint, AD's links)
//     rewrites the member values naming it without the groups showing a
//     change. Nested groups need nothing more: flattening runs on the
//     whole merged state.
//   - Read.Scope names every key whose part of the Snapshot differs from
//     the stored state's Snapshot, by the stored digests (scope.go), so a
//     change that reaches an entry through nesting, role_map,
//     require_group or a manager's name is named too; it is nil when an
//     account expired since the cursor or a keyless held entry differs.
//   - The read is full instead, with a warning in the Snapshot when it is a
//     fault, when: the reconciler asks (first run, full_every); the config
//     or the server changed; the position cannot be read (no syncprov, an
//     ACL hiding contextCSN or entryCSN: the latter is probed on one entry,
//     as a filter on an unreadable attribute matches nothing); the server's
//     position is older than the stored one (a restored backup, another
//     DC); the contextCSN is more than 5 minutes ahead of this host's clock;
//     the stored state does not decode or disagrees with the listing; the
//     stored state has an older layout (once, without a warning).
//   - A failed search or sync refresh (a cut connection, a timeout, a
//     refresh that ends without its Sync Done) fails the read, as for a
//     full read: the reconciler applies nothing and the stored cursor
//     stays where it was.
//
// # Deletions on Active Directory
//
// With flavor ad the keys-only listing (about 0.9x the dump on Samba) is
// replaced, when it can be, by two searches for what changed since the
// cursor's USN, which cost in proportion to the changes:
//
//   - the Deleted Objects container of the naming context holding the
//     bases (<WKGUID=18E2EA80684F11D2B9AA00C04F79F805,NC>), with the Show
//     Deleted control (1.2.840.113556.1.4.417, critical), filter
//     (&(isDeleted=TRUE)(uSNChanged>=N)), objectGUID only: the deletions;
//   - the whole naming context, (uSNChanged>=N), objectGUID only: an
//     entry of the stored state changed there but not found by the scoped
//     search for changes ((&filter(uSNChanged>=N)) under the base) has left
//     the scope: moved out of the base DN, or no longer matching the filter.
//     Neither is a deletion at the DC, and neither shows in the first search.
//
// Stored entries are then followed by objectGUID (a renamed or moved entry
// is the same entry); changed entries new to the state (created, moved in,
// matching the filter again) are added. The DC rewrites the member values
// naming an entry that was deleted, renamed or moved without always moving
// the group's uSNChanged (Samba does not when a member is deleted), so the
// unchanged groups whose stored values name such a DN, and the groups an
// entered entry's memberOf names, are read again (all groups in one search
// past 50 of them). Nested groups need nothing more.
//
// The keys-only listing is used instead (a warning, and the run's read
// reason says why) when: user.id_attribute or group.id_attribute is not
// objectGUID (tombstones keep little else); group.member_attribute is not
// member; user.filter or group.filter tests a back-link attribute
// (memberOf, directReports, …: an entry enters or leaves the scope by it
// without a change of its own, which only the listing sees); a stored
// entry has no objectGUID; no naming context holds both bases; the
// container cannot be read with the control, or the bind user sees no
// deleted object in it (Samba shows a bind user without the right to list
// it the container but none of its deleted objects, with no error — so a
// domain where nothing was ever deleted lists keys until something is); or the cursor was saved more
// than 48 hours ago (the shortest tombstone lifetime: older deletions may
// have left no tombstone). A cursor of another DC, or a USN that went
// backwards, reads in full as before; the full run every full_every stays
// the safety net.
//
// Results are streamed page by page and mapped at once to small structs, so
// memory grows with the number of users, not with the response sizes.
//
// The source talks to the server through its own three-method conn
// interface (and the sync refreshes through the two-method refresher, on
// go-ldap). The conn implementation is the wire client of internal/wire, a
// one-operation-at-a-time LDAPv3 client that decodes responses in place
// from a reused buffer (its package doc says why and what it promises);
// errors are *goldap.Error, and DNs are parsed and escaped with go-ldap.
// The source turns the client's errors into ones that name the config key
// (a refused message names ldap.max_message_bytes).
package ldap
