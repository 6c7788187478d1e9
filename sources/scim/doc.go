// Package scim is a pull source that reads the desired members and groups of
// one org from any SCIM 2.0 service provider (RFC 7643/7644): an IdP's SCIM
// API, another orgsync, or anything else that serves /Users and /Groups.
//
// Snapshot returns the whole desired state or an error, never less: every
// page must arrive, and every page must agree with what the server said it
// would send. In detail:
//
//   - /Users and then /Groups are read with startIndex/count paging. The
//     resources are counted here; itemsPerPage is ignored, because peers
//     echo the requested count instead of what they sent.
//   - totalResults is held to account: an empty page before the total is
//     reached, more resources than the total, a total that changes during
//     the read, an id already read on an earlier page (a server ignoring
//     startIndex), or one more page past the total that still brings new
//     resources (a total that is too low) each fail the read. A server that
//     ignores startIndex but sent everything on the first page is accepted.
//   - 429, 408 and 5xx answers and network errors are retried with exponential
//     backoff and jitter, honouring Retry-After (a wait of more than 5 minutes
//     fails the read instead), up to max_retries; every attempt has its own
//     timeout. A page that still fails fails the snapshot. 401 and 403 mean
//     the token was refused.
//   - A 200 whose body is not a SCIM ListResponse is an error, and so is a
//     body larger than max_response_bytes (64 MiB), a list of more than
//     max_entries resources (1,000,000), or a totalResults above it: the
//     error names the setting.
//   - user_filter and group_filter are passed to the server and also checked
//     here: a resource that plainly does not match (a server ignoring or
//     misreading the filter) is left out and reported in the warnings.
//
// No resource that was read is left out (left out, it would read as gone):
// one that cannot become a member or group — no id, no userName or key, an
// unreadable active flag, a group without displayName, a group member that
// is not an object with a string value, a group nesting a held group — is
// returned in Snapshot.HeldUsers or HeldGroups, with its position and
// reason, for the reconciler to keep what it names as it is (a held user
// read as active:false comes with HeldEntry.Status deprovisioned, to be
// suspended all the same). A listed group without a members attribute is
// read again alone (GET /Groups/{id}): servers omit empty lists, and many
// also leave members out of list responses for large groups, so only the
// group's own GET tells which; that read failing fails the snapshot.
// Duplicate userNames and group names are kept and warned about, so the
// reconciler holds them as conflicts. A resource naming nothing (not a JSON
// object, or neither key nor name) and a held role_map group (its members'
// roles cannot be known) fail the snapshot.
//
// Mapping: a member's ExternalID is the resource id (immutable at the
// provider) unless id_attribute says otherwise; active:false (or "False")
// makes it deprovisioned; role_map gives a role to the (transitive) members
// of groups by display name (a role_map group that is not read fails the
// snapshot rather than silently taking the role away). A group's members are
// the ExternalIDs of the users read; members of type Group (or whose value
// is a group id) become Subgroups.
//
// Incremental reads (SnapshotFrom, reconciler.Incremental): when the
// provider's ServiceProviderConfig says filter.supported, a read after the
// first lists the users and groups with meta.lastModified gt the cursor
// (ANDed with user_filter and group_filter), lists every id
// (attributes=id, the deletion check), and merges the two into the state
// stored with the cursor; the Snapshot is then assembled from it exactly as
// from a full read. The cursor is the provider's own clock: the Date header
// of its ServiceProviderConfig answer, less two minutes (resources stamped
// by a host a little behind are read again, not missed). A listed id that
// is neither changed nor stored fails over to a full read, and so does a
// provider whose clock is behind the stored cursor (with a warning); a
// resource gone from the listing re-reads every group, as providers may
// drop members without touching a group's meta.lastModified. Without
// filter support every read is full. An incremental read names its scope
// (orgsync.Read.Scope, see scope.go) by comparing the merged state with
// the stored one: the users and groups whose resources differ, and every
// group when a user or group appeared, vanished, changed its key or
// became held (member values name both by provider id); nil, so that the
// reconciler diffs everything, when a resource has no id or a changed
// user no key.
//
// Configuration (the `scim:` block of a source; only base_url and a token
// are required):
//
//	scim:
//	  base_url: https://idp.example.com/scim/v2
//	  token: ${IDP_SCIM_TOKEN}        # or token_file: /run/secrets/idp
//	  page_size: 100                  # group_page_size: defaults to page_size
//	  timeout: 30s                    # per request, body included
//	  max_retries: 5                  # 0: never retry
//	  max_entries: 1000000            # per list; max_response_bytes: 67108864 per page
//	  ca_file: /etc/ssl/idp-ca.pem    # insecure_skip_verify: false
//	  user_filter: active eq true     # group_filter too; skip_groups: false
//	  id_attribute: id                # or externalId; user_name_attribute: userName,
//	                                  # email_attribute: emails, given_name_attribute,
//	                                  # family_name_attribute, display_name_attribute
//	  role_map: {"KMS Admins": admin}
//
// Limits: group members are taken from the /Groups list response, or the
// group's own GET when the list left them out. A server that pages or
// truncates members (as some directories do for very large groups) while
// still sending a members attribute is not detected: the membership guards
// (guard.max_member_remove) are the backstop. The bearer token is never
// logged and never part of an error.
package scim
