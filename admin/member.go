package admin

import (
	"time"

	"github.com/orgsync/orgsync"
)

// Member is how a member is shown by the admin API and `members list
// --format json`: the fields of the contract, with pending_setup spelled
// out for consumers that only look for a flag.
type Member struct {
	ID               string     `json:"id"`
	UserName         string     `json:"user_name"`
	Email            string     `json:"email"`
	ExternalID       string     `json:"external_id"`
	Status           string     `json:"status"`
	PendingSetup     bool       `json:"pending_setup"`
	Owner            string     `json:"owner"`
	Role             string     `json:"role"`
	Groups           []string   `json:"groups"`
	GivenName        string     `json:"given_name,omitempty"`
	FamilyName       string     `json:"family_name,omitempty"`
	DisplayName      string     `json:"display_name,omitempty"`
	SetupCompletedAt *time.Time `json:"setup_completed_at,omitempty"`
	DeprovisionedAt  *time.Time `json:"deprovisioned_at,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// NewMember is m as the admin API and `members list --format json` show it.
func NewMember(m orgsync.Member) Member {
	groups := m.Groups
	if groups == nil {
		groups = []string{}
	}
	return Member{ID: m.ID, UserName: m.UserName, Email: m.Email(), ExternalID: m.ExternalID, Status: string(m.Status),
		PendingSetup: m.Status == orgsync.StatusPendingSetup, Owner: m.Owner, Role: m.Role, Groups: groups,
		GivenName: m.GivenName, FamilyName: m.FamilyName, DisplayName: m.DisplayName,
		SetupCompletedAt: m.SetupCompletedAt, DeprovisionedAt: m.DeprovisionedAt, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}
