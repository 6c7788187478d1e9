package orgsync

// Action is what a Change does.
type Action string

// The actions of a Plan, in the order they are applied: creates before
// deletes, so that a failed run never leaves the org with less than it had.
const (
	ActionGroupCreate Action = "group_create"
	ActionAdopt       Action = "adopt"
	// ActionRekey moves an owned member to the new key of its re-created
	// source entry (see reconciler.RekeyRule); MemberKey is the new key.
	ActionRekey        Action = "rekey"
	ActionProvision    Action = "provision"
	ActionReactivate   Action = "reactivate"
	ActionUpdate       Action = "update"
	ActionGroupUpdate  Action = "group_update"
	ActionMemberAdd    Action = "member_add"
	ActionMemberRemove Action = "member_remove"
	ActionDeprovision  Action = "deprovision"
	ActionGroupDelete  Action = "group_delete"
	ActionPurge        Action = "purge"
)

// Actions lists every action in apply order.
var Actions = []Action{
	ActionGroupCreate, ActionAdopt, ActionRekey, ActionProvision, ActionReactivate, ActionUpdate,
	ActionGroupUpdate, ActionMemberAdd, ActionMemberRemove, ActionDeprovision,
	ActionGroupDelete, ActionPurge,
}

// Rank is the position of a in apply order.
func (a Action) Rank() int {
	for i, b := range Actions {
		if a == b {
			return i
		}
	}
	return len(Actions)
}

// FieldChange is the old and new value of one attribute.
type FieldChange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Change is one step of a Plan.
//
// Members and groups are addressed by ID when they exist, and by their
// owner's ExternalID (MemberKey, GroupKey) when the same Plan creates them.
type Change struct {
	Action    Action                 `json:"action"`
	UserName  string                 `json:"user_name,omitempty"`
	GroupName string                 `json:"group,omitempty"`
	Fields    map[string]FieldChange `json:"fields,omitempty"`
	Reason    string                 `json:"reason,omitempty"`
	MemberID  string                 `json:"member_id,omitempty"`
	MemberKey string                 `json:"external_id,omitempty"`
	GroupID   string                 `json:"group_id,omitempty"`
	GroupKey  string                 `json:"group_external_id,omitempty"`

	// Member is the desired member for provision, adopt, update and
	// reactivate (Status is the status to set); Group the desired group for
	// group_create and group_update.
	Member *Member `json:"-"`
	Group  *Group  `json:"-"`
}

// Conflict is a source entry the plan holds back because acting on it would
// mean guessing (duplicate keys or emails, a member owned by someone else,
// an entry the source could not read whole): the member or group it names
// is kept exactly as it is.
type Conflict struct {
	UserName string `json:"user_name,omitempty"`
	Key      string `json:"external_id,omitempty"`
	Reason   string `json:"reason"`
	// DN names the LDAP entry involved, when the source is a directory.
	DN string `json:"dn,omitempty"`
}

// Plan is the ordered list of Changes that turns the observed state of an
// org into the desired one. Dry-run prints it; apply executes it.
type Plan struct {
	Org       string     `json:"org"`
	Owner     string     `json:"source"`
	Changes   []Change   `json:"changes"`
	Conflicts []Conflict `json:"conflicts,omitempty"`
	Warnings  []string   `json:"warnings,omitempty"`
	// Owned is how many members the owner held before the plan; guards
	// weigh deprovisions against it.
	Owned int `json:"owned"`
	// OwnedGroups and OwnedMemberships are how many groups the owner held
	// before the plan and how many members they had; guards weigh group
	// deletions and membership removals against them.
	OwnedGroups      int `json:"owned_groups"`
	OwnedMemberships int `json:"owned_memberships"`
	// Held counts the source entries in Conflicts, users and groups.
	Held HeldCount `json:"held"`
	// Read is how many users the source listed, Disabled how many of
	// them it reads as disabled (deprovisioned at the source).
	Read     int `json:"read"`
	Disabled int `json:"disabled"`
}

// HeldCount is how many user and group entries a plan holds back.
type HeldCount struct {
	Users  int `json:"users"`
	Groups int `json:"groups"`
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool { return len(p.Changes) == 0 }

// Summary counts changes by action.
type Summary map[Action]int

// Summary counts the plan's changes by action, with every action present.
func (p Plan) Summary() Summary {
	s := Summary{}
	for _, a := range Actions {
		s[a] = 0
	}
	for _, c := range p.Changes {
		s[c.Action]++
	}
	return s
}

// Applied is what Store.Apply really changed: a change that found the
// store already as desired is not counted.
type Applied struct {
	Counts  Summary  `json:"counts"`
	Skipped []string `json:"skipped,omitempty"`
	// Provisioned lists the user names of the members this apply created;
	// they are all pending_setup.
	Provisioned []string `json:"provisioned,omitempty"`
}

// Total is the number of changes applied.
func (a Applied) Total() int {
	n := 0
	for _, v := range a.Counts {
		n += v
	}
	return n
}
