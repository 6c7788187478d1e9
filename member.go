package orgsync

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// Status is where a member stands in its lifecycle.
type Status string

// The member statuses.
const (
	StatusPendingSetup  Status = "pending_setup"
	StatusActive        Status = "active"
	StatusDeprovisioned Status = "deprovisioned"
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusPendingSetup, StatusActive, StatusDeprovisioned:
		return true
	}
	return false
}

// Statuses lists every status in lifecycle order.
var Statuses = []Status{StatusPendingSetup, StatusActive, StatusDeprovisioned}

// OwnerSCIM owns the members and groups that IdPs push through the SCIM
// receiver. Every other owner is the name of a pull source.
const OwnerSCIM = "scim"

// OwnerPurge is the owner of purge plans and the source recorded for purge
// runs and their events. It owns no member: the purge removes members of
// every owner (see MayApply). Like OwnerSCIM it is reserved (ReservedOwner).
const OwnerPurge = "purge"

// Well-known roles. Orgs may use others; RoleAdmin is never purged.
const (
	RoleMember = "member"
	RoleAdmin  = "admin"
)

// IsAdminRole reports whether role is RoleAdmin however a source or config
// spelled it ("Admin", " admin "): the rules that protect admins (never
// purged) must not be dodged by case or padding, so every such rule asks
// this function rather than comparing with RoleAdmin.
func IsAdminRole(role string) bool { return strings.EqualFold(strings.TrimSpace(role), RoleAdmin) }

// Email is one address of a member.
type Email struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// Member is one user's membership of an org.
//
// In a Snapshot read from a source, only the identity and profile fields are
// meaningful: ExternalID, UserName, Emails, names, Role ("" for the org's
// default) and Status (StatusDeprovisioned for a user disabled at the
// source, StatusActive otherwise).
type Member struct {
	ID         string  `json:"id"`
	Org        string  `json:"org"`
	UserName   string  `json:"user_name"`
	ExternalID string  `json:"external_id"`
	Emails     []Email `json:"emails,omitempty"`

	GivenName   string `json:"given_name,omitempty"`
	FamilyName  string `json:"family_name,omitempty"`
	DisplayName string `json:"display_name,omitempty"`

	// Attributes holds the SCIM attributes of a SCIM-owned member beyond
	// the fields above (RFC 7643 §4.1 and the enterprise extension, §4.3):
	// one JSON object in the canonical form of the receiver, or empty for
	// none. The store keeps it as it is and returns it only from its SCIM
	// reads; snapshots, lists and the reconciler never read it.
	Attributes json.RawMessage `json:"attributes,omitempty"`
	// AttributesDigest is AttributesDigestOf the stored Attributes, set on
	// the members of a snapshot the store reads (which leave Attributes
	// out), so that a source's attributes can be compared without reading
	// or parsing any document.
	AttributesDigest string `json:"-"`

	Role   string `json:"role"`
	Status Status `json:"status"`
	Owner  string `json:"owner"`

	SetupCompletedAt *time.Time `json:"setup_completed_at,omitempty"`
	DeprovisionedAt  *time.Time `json:"deprovisioned_at,omitempty"`
	// DeletedAt is set when the owner deleted the member (SCIM DELETE): it is
	// gone from SCIM but kept, deprovisioned, until purged.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`

	// Version grows with every change; it is the SCIM ETag.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	// Groups holds the display names of the member's groups when a read
	// asked for them.
	Groups []string `json:"groups,omitempty"`

	// DN is where an LDAP source read the entry, so that reports can name
	// it; "" for members of the store and of other sources.
	DN string `json:"-"`
}

// Email returns the primary address, or the first one, or "".
func (m *Member) Email() string {
	for _, e := range m.Emails {
		if e.Primary {
			return e.Value
		}
	}
	if len(m.Emails) > 0 {
		return m.Emails[0].Value
	}
	return ""
}

// Active reports whether the member has access (or will have once set up).
func (m *Member) Active() bool { return m.Status != StatusDeprovisioned }

// ReactivatedStatus is the status a deprovisioned member returns to.
func (m *Member) ReactivatedStatus() Status {
	if m.SetupCompletedAt != nil {
		return StatusActive
	}
	return StatusPendingSetup
}

// Group is a named set of members of one org.
//
// Members holds member keys. In the store they are member IDs; in a Snapshot
// read from a source they are the members' ExternalIDs, and Subgroups holds
// the ExternalIDs of nested groups (the reconciler flattens them).
type Group struct {
	ID          string   `json:"id"`
	Org         string   `json:"org"`
	DisplayName string   `json:"display_name"`
	ExternalID  string   `json:"external_id"`
	Owner       string   `json:"owner"`
	Members     []string `json:"members,omitempty"`
	Subgroups   []string `json:"subgroups,omitempty"`
	// DN is where an LDAP source read the group (for reports); "" in the
	// store.
	DN string `json:"-"`

	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Fold is the case folding used for every case-insensitive identity
// (userName, email, group display name).
func Fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Org is one organisation of the KMS whose membership orgsync keeps.
type Org struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	DefaultRole string        `json:"default_role"`
	PurgeAfter  time.Duration `json:"purge_after"`
}

// Token is a SCIM bearer token's record. The token itself is never stored:
// only its hash, so a leaked database grants no access.
type Token struct {
	ID          string     `json:"id"`
	Org         string     `json:"org"`
	Description string     `json:"description"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// AttributesDigestOf identifies a member's Attributes document: "" for
// none, else a hash of its bytes (documents are compared in the form
// their writer encodes them, sorted keys).
func AttributesDigestOf(doc json.RawMessage) string {
	if len(doc) == 0 {
		return ""
	}
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:16])
}
