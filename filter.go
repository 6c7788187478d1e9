package orgsync

// FilterOp is the operator of one Filter node.
type FilterOp string

// Filter operators. And, Or and Not combine Children; Any matches a member
// or group when at least one element of the multi-valued attribute Attr
// (AttrEmails, AttrMembers) satisfies every child (whose Attr names a
// sub-attribute: "value", "type", "primary"); the others compare Attr with
// Value.
const (
	FilterAnd FilterOp = "and"
	FilterOr  FilterOp = "or"
	FilterNot FilterOp = "not"
	FilterAny FilterOp = "any"

	FilterEq      FilterOp = "eq"
	FilterNe      FilterOp = "ne"
	FilterCo      FilterOp = "co" // contains
	FilterSw      FilterOp = "sw" // starts with
	FilterEw      FilterOp = "ew" // ends with
	FilterGt      FilterOp = "gt"
	FilterGe      FilterOp = "ge"
	FilterLt      FilterOp = "lt"
	FilterLe      FilterOp = "le"
	FilterPresent FilterOp = "pr"
)

// Canonical filter attributes. String attributes compare case-insensitively
// except AttrID and AttrExternalID (SCIM caseExact); AttrActive and
// AttrSetupCompleted take a bool; AttrCreated and AttrLastModified a
// time.Time; AttrSetupStatus a Status string.
const (
	AttrID             = "id"
	AttrUserName       = "userName"
	AttrExternalID     = "externalId"
	AttrDisplayName    = "displayName"
	AttrGivenName      = "name.givenName"
	AttrFamilyName     = "name.familyName"
	AttrActive         = "active"
	AttrSetupStatus    = "setupStatus"
	AttrSetupCompleted = "setupCompleted"
	AttrCreated        = "meta.created"
	AttrLastModified   = "meta.lastModified"

	// Multi-valued attributes, used with FilterAny.
	AttrEmails  = "emails"  // sub-attributes: value, type, primary
	AttrMembers = "members" // sub-attribute: value (a member ID)

	SubValue   = "value"
	SubType    = "type"
	SubPrimary = "primary"

	// AttrDocument names a value of the member's Attributes document:
	// Filter.Path holds its object keys, outermost first. Under FilterAny,
	// Path names an array of objects and the children (AttrDocument too)
	// have Paths relative to one element. A string compares
	// case-insensitively unless Filter.CaseExact; a bool Value compares a
	// JSON boolean; an absent value is "" (or false), and pr asks whether
	// it is present.
	AttrDocument = "attributes"
)

// Filter is a store-neutral query predicate over members or groups: a tree
// that transports (the SCIM receiver) build and stores translate into their
// own query language. Values are string, bool or time.Time.
type Filter struct {
	Op       FilterOp
	Attr     string
	Value    any
	Children []Filter
	// Path and CaseExact qualify AttrDocument.
	Path      []string
	CaseExact bool
}

// Query selects one page of a filtered, stably ordered list.
type Query struct {
	// Filter is nil for everything.
	Filter *Filter
	// StartIndex is 1-based.
	StartIndex int
	// Count is the page size; 0 asks for the total only.
	Count int
}

// MembershipAction is what a MembershipOp does to a group's members.
type MembershipAction string

// The membership actions.
const (
	MembershipAdd     MembershipAction = "add"     // add these members (already there: no change)
	MembershipRemove  MembershipAction = "remove"  // remove these members (absent: no change)
	MembershipReplace MembershipAction = "replace" // the group has exactly these members
)

// MembershipOp changes a group's members incrementally.
type MembershipOp struct {
	Action    MembershipAction
	MemberIDs []string
}

// GroupPatch is a change to one group: nil fields are left as they are;
// Membership is applied in order.
type GroupPatch struct {
	DisplayName *string
	ExternalID  *string
	Membership  []MembershipOp
}

// Empty reports whether the patch changes nothing.
func (p GroupPatch) Empty() bool {
	return p.DisplayName == nil && p.ExternalID == nil && len(p.Membership) == 0
}
