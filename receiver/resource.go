package receiver

import (
	"strings"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/scimattr"
)

// Schema URNs (their one home is scimattr) and other names of the API.
const (
	schemaUser      = scimattr.User
	schemaGroup     = scimattr.Group
	schemaKMSUser   = scimattr.KMSUser
	schemaKMSGroup  = scimattr.KMSGroup
	schemaKMSConfig = scimattr.KMSConfig
	schemaList      = scimattr.ListResponse
	schemaPatchOp   = scimattr.PatchOp
	schemaSearch    = scimattr.SearchRequest
	schemaSPConfig  = scimattr.ServiceProviderConfig
	schemaResType   = scimattr.ResourceType
	schemaSchema    = scimattr.Schema
	timeFormat      = "2006-01-02T15:04:05.000Z07:00"
	resourceUsers   = "Users"
	resourceGroups  = "Groups"
	mediaType       = "application/scim+json"
	typeUser        = "User"
	typeGroup       = "Group"
	statusAttribute = "setupStatus"
)

func stamp(t time.Time) string { return t.UTC().Format(timeFormat) }

// groupJSON is the SCIM representation of a group; with members, its
// members and, under the KMS extension, those still pending setup.
func groupJSON(base string, g orgsync.Group, briefs map[string]orgsync.Member, withMembers bool) map[string]any {
	out := map[string]any{
		"schemas":     []string{schemaGroup},
		"id":          g.ID,
		"displayName": g.DisplayName,
		"meta": map[string]any{
			"resourceType": typeGroup, "created": stamp(g.CreatedAt), "lastModified": stamp(g.UpdatedAt),
			"location": base + "/Groups/" + g.ID, "version": etag(g.Version),
		},
	}
	if g.ExternalID != "" {
		out["externalId"] = g.ExternalID
	}
	if !withMembers {
		return out
	}
	members := make([]any, 0, len(g.Members))
	var pending []any
	for _, id := range g.Members {
		b := briefs[id]
		members = append(members, map[string]any{"value": id, "display": b.UserName, "type": typeUser, "$ref": base + "/Users/" + id})
		if b.Status == orgsync.StatusPendingSetup {
			pending = append(pending, map[string]any{"value": id, "display": b.UserName})
		}
	}
	out["members"] = members
	out["schemas"] = []string{schemaGroup, schemaKMSGroup}
	if pending == nil {
		pending = []any{}
	}
	out[schemaKMSGroup] = map[string]any{"pendingMembers": pending}
	return out
}

// Bounds on what one user may store.
const (
	maxAttrLen = 1024 // bytes of one string attribute
	maxEmails  = 100
)

// str reads an optional string attribute: absent or null is "".
func str(name string, v any) (string, error) {
	switch s := v.(type) {
	case nil:
		return "", nil
	case string:
		if len(s) > maxAttrLen {
			return "", badRequest(typeInvalidValue, "%s is longer than %d bytes", name, maxAttrLen)
		}
		return s, nil
	}
	return "", badRequest(typeInvalidValue, "%s must be a string", name)
}

// boolean reads a boolean leniently (scimattr.Bool: the strings "true" and
// "false" in any case too, as Entra and OneLogin templates send them).
func boolean(name string, v any) (bool, error) {
	if b, ok := scimattr.Bool(v); ok {
		return b, nil
	}
	return false, badRequest(typeInvalidValue, "%s must be a boolean", name)
}

// emailsOf reads a multi-valued emails attribute (an array, or one object).
func emailsOf(v any) ([]orgsync.Email, error) {
	var list []any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		list = x
	case map[string]any:
		list = []any{x}
	default:
		return nil, badRequest(typeInvalidValue, "emails must be an array of objects")
	}
	if len(list) > maxEmails {
		return nil, badRequest(typeInvalidValue, "a user may have at most %d emails", maxEmails)
	}
	var out []orgsync.Email
	for _, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, badRequest(typeInvalidValue, "emails must be an array of objects")
		}
		e, err := emailOf(fieldsOf(obj), orgsync.Email{})
		if err != nil {
			return nil, err
		}
		if e.Value != "" {
			out = append(out, e)
		}
	}
	// RFC 7643 §2.4: at most one value of a multi-valued attribute is
	// primary. Two in one body is a bad request, not a choice to make.
	primaries := 0
	for _, e := range out {
		if e.Primary {
			primaries++
		}
	}
	if primaries > 1 {
		return nil, badRequest(typeInvalidValue, "emails.primary: %d values are primary; at most one may be", primaries)
	}
	return out, nil
}

// emailOf merges the sub-attributes of f into e.
func emailOf(f fields, e orgsync.Email) (orgsync.Email, error) {
	var err error
	if f.has("value") {
		if e.Value, err = str("emails.value", f.get("value")); err != nil {
			return e, err
		}
	}
	if f.has("type") {
		if e.Type, err = str("emails.type", f.get("type")); err != nil {
			return e, err
		}
	}
	if v := f.get("primary"); v != nil {
		if e.Primary, err = boolean("emails.primary", v); err != nil {
			return e, err
		}
	}
	return e, nil
}

// normalEmails drops duplicate (type, value) pairs and keeps at most one
// primary (the first).
func normalEmails(es []orgsync.Email) []orgsync.Email {
	seen := map[[2]string]bool{}
	out := es[:0:0]
	primary := false
	for _, e := range es {
		k := [2]string{strings.ToLower(e.Type), orgsync.Fold(e.Value)}
		if e.Value == "" || seen[k] {
			continue
		}
		seen[k] = true
		if e.Primary && primary {
			e.Primary = false
		}
		primary = primary || e.Primary
		out = append(out, e)
	}
	return out
}

// userInput is what a POST or PUT body says about a user.
type userInput struct {
	m      orgsync.Member
	active *bool
}

// parseUser reads a User body. Only the attributes orgsync keeps are read;
// everything else (password, groups, roles, id, meta, extensions, unknown
// names) is ignored.
func parseUser(doc map[string]any) (userInput, error) {
	f := fieldsOf(doc)
	if present, ok := hasSchema(f, schemaUser); !ok {
		if present {
			return userInput{}, badRequest(typeInvalidValue, "schemas must include %s", schemaUser)
		}
		return userInput{}, badRequest(typeInvalidSyntax, "schemas must include %s", schemaUser)
	}
	var (
		in  userInput
		err error
	)
	if in.m.UserName, err = str("userName", f.get("userName")); err != nil {
		return in, err
	}
	if strings.TrimSpace(in.m.UserName) == "" {
		return in, badRequest(typeInvalidValue, "userName is required")
	}
	if in.m.ExternalID, err = str("externalId", f.get("externalId")); err != nil {
		return in, err
	}
	if in.m.DisplayName, err = str("displayName", f.get("displayName")); err != nil {
		return in, err
	}
	switch name := f.get("name").(type) {
	case nil:
	case map[string]any:
		nf := fieldsOf(name)
		if in.m.GivenName, err = str("name.givenName", nf.get("givenName")); err != nil {
			return in, err
		}
		if in.m.FamilyName, err = str("name.familyName", nf.get("familyName")); err != nil {
			return in, err
		}
	default:
		return in, badRequest(typeInvalidValue, "name must be an object")
	}
	if in.m.Emails, err = emailsOf(f.get("emails")); err != nil {
		return in, err
	}
	in.m.Emails = normalEmails(in.m.Emails)
	attrs, err := scimattr.ReadUser(doc)
	if err != nil {
		return in, docError(err)
	}
	in.m.Attributes = scimattr.Encode(attrs)
	if v := f.get("active"); v != nil {
		b, err := boolean("active", v)
		if err != nil {
			return in, err
		}
		in.active = &b
	}
	return in, nil
}

// groupInput is what a POST or PUT body says about a group.
type groupInput struct {
	displayName string
	externalID  string
	members     []string
	hasMembers  bool
}

func parseGroup(doc map[string]any) (groupInput, error) {
	f := fieldsOf(doc)
	if present, ok := hasSchema(f, schemaGroup); !ok {
		if present {
			return groupInput{}, badRequest(typeInvalidValue, "schemas must include %s", schemaGroup)
		}
		return groupInput{}, badRequest(typeInvalidSyntax, "schemas must include %s", schemaGroup)
	}
	var (
		in  groupInput
		err error
	)
	if in.displayName, err = str("displayName", f.get("displayName")); err != nil {
		return in, err
	}
	if strings.TrimSpace(in.displayName) == "" {
		return in, badRequest(typeInvalidValue, "displayName is required")
	}
	if in.externalID, err = str("externalId", f.get("externalId")); err != nil {
		return in, err
	}
	if v := f.get("members"); v != nil {
		in.hasMembers = true
		if in.members, err = memberIDs(v); err != nil {
			return in, err
		}
	} else if f.has("members") {
		in.hasMembers = true // "members": null is an explicit empty list
	}
	return in, nil
}

// memberIDs reads the ids of a members value: an array of {"value": id}
// objects (or of ids), or one such object.
func memberIDs(v any) ([]string, error) {
	var list []any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		list = x
	case map[string]any:
		list = []any{x}
	case string:
		list = []any{x}
	default:
		return nil, badRequest(typeInvalidValue, "members must be an array of objects with a value")
	}
	ids := make([]string, 0, len(list))
	for _, item := range list {
		var id string
		switch x := item.(type) {
		case string:
			id = x
		case map[string]any:
			id, _ = fieldsOf(x).get("value").(string)
		}
		if strings.TrimSpace(id) == "" {
			return nil, badRequest(typeInvalidValue, "every member needs a value (the member's id)")
		}
		ids = append(ids, id)
	}
	return ids, nil
}
