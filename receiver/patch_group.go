package receiver

import (
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/orgsync/orgsync"
)

// groupPatch translates PATCH ops on a group into one incremental
// orgsync.GroupPatch, in order:
//
//	add members [..]                    → add those members (present ones: no change)
//	remove members[value eq "x" or …]   → remove those members
//	remove members, value [..]          → remove only those listed (Entra, JumpCloud)
//	remove members, no value            → remove every member (RFC)
//	remove members, value null          → 400 invalidValue (never "all")
//	replace members [..] / []           → exactly those members
//	replace {displayName, id, …}        → rename (Okta sends the id inside the value)
//
// A path-less value without "members" never touches the members.
func groupPatch(ops []patchOp) (orgsync.GroupPatch, error) {
	var p orgsync.GroupPatch
	for _, op := range ops {
		if op.path == "" {
			if op.op == "remove" {
				return p, badRequest(typeNoTarget, "remove needs a path")
			}
			pairs, err := pathlessKeys(op.value, schemaGroup)
			if err != nil {
				return p, err
			}
			for _, kv := range pairs {
				if err := groupPath(&p, op.op, kv[0].(string), kv[1], true); err != nil {
					return p, err
				}
			}
			continue
		}
		if err := groupPath(&p, op.op, op.path, op.value, op.hasValue); err != nil {
			return p, err
		}
	}
	return p, nil
}

func groupPath(p *orgsync.GroupPatch, op, path string, value any, hasValue bool) error {
	t, err := target(path, schemaGroup)
	if err != nil || t.ignore {
		return err
	}
	switch t.name {
	case "displayname":
		if op == "remove" {
			return badRequest(typeMutability, "displayName is required and cannot be removed")
		}
		s, err := str("displayName", value)
		if err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			return badRequest(typeInvalidValue, "displayName is required")
		}
		p.DisplayName = &s
	case "externalid":
		s := ""
		if op != "remove" {
			if s, err = str("externalId", value); err != nil {
				return err
			}
		}
		p.ExternalID = &s
	case "members":
		return membersPath(p, op, t, value, hasValue)
	}
	return nil // id, meta, schemas and unknown attributes
}

func membersPath(p *orgsync.GroupPatch, op string, t pathTarget, value any, hasValue bool) error {
	if t.sub != "" && t.sub != "value" {
		return badRequest(typeInvalidPath, "members has no modifiable sub-attribute %q", t.sub)
	}
	push := func(a orgsync.MembershipAction, ids []string) {
		p.Membership = append(p.Membership, orgsync.MembershipOp{Action: a, MemberIDs: ids})
	}
	if t.filter != nil {
		if op != "remove" {
			return badRequest(typeInvalidPath, "a members value filter is supported with remove only")
		}
		ids, err := memberFilterIDs(t.filter)
		if err != nil {
			return err
		}
		push(orgsync.MembershipRemove, ids)
		return nil
	}
	if op == "remove" && hasValue && value == nil {
		// Read as "no value", it would remove every member: a sender
		// that meant a list and produced null must not empty the group.
		return badRequest(typeInvalidValue, "remove members with a null value: send the members to remove, or no value to remove them all")
	}
	ids, err := memberIDs(value)
	if err != nil {
		return err
	}
	switch {
	case op == "add":
		push(orgsync.MembershipAdd, ids)
	case op == "replace":
		push(orgsync.MembershipReplace, ids)
	case hasValue && value != nil:
		push(orgsync.MembershipRemove, ids)
	default:
		push(orgsync.MembershipReplace, nil)
	}
	return nil
}

// memberFilterIDs reads the ids of members[value eq "a" or value eq "b"].
func memberFilterIDs(e filter.Expression) ([]string, error) {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		if !strings.EqualFold(string(x.Operator), "or") {
			break
		}
		l, err := memberFilterIDs(x.Left)
		if err != nil {
			return nil, err
		}
		r, err := memberFilterIDs(x.Right)
		return append(l, r...), err
	case *filter.AttributeExpression:
		if !strings.EqualFold(x.AttributePath.AttributeName, "value") || !strings.EqualFold(string(x.Operator), "eq") ||
			x.AttributePath.SubAttribute != nil || x.AttributePath.URIPrefix != nil {
			break
		}
		v, err := filterValue(x.CompareValue)
		if s, ok := v.(string); err == nil && ok {
			return []string{s}, nil
		}
	}
	return nil, badRequest(typeInvalidPath, `members filters must be value eq "id" terms joined by or`)
}
