package receiver

import (
	"net/http"
	"strings"

	"github.com/orgsync/orgsync/internal/scimattr"
)

// Discovery documents describe exactly what the receiver supports; they
// hold no org data.

func (s *Server) serviceProviderConfig(base string) map[string]any {
	return map[string]any{
		"schemas":        []string{schemaSPConfig, schemaKMSConfig},
		"patch":          map[string]any{"supported": true},
		"bulk":           map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":         map[string]any{"supported": true, "maxResults": s.opts.MaxResults},
		"changePassword": map[string]any{"supported": false},
		"sort":           map[string]any{"supported": false},
		"etag":           map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
			"description": "A per-organisation bearer token created with `orgsync tokens create`, sent as Authorization: Bearer <token>.",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
		// The member caps of group reads (see heavy.go): a list carries
		// at most maxListMembers member values, a GET of one group at most
		// maxGroupMembers; groups past them come without "members".
		schemaKMSConfig: map[string]any{"maxListMembers": s.opts.MaxListMembers, "maxGroupMembers": s.opts.MaxGroupMembers},
	}
}

func resourceTypes(base string) []map[string]any {
	rt := func(id, endpoint, schema, desc string, exts ...string) map[string]any {
		list := make([]any, 0, len(exts))
		for _, ext := range exts {
			list = append(list, map[string]any{"schema": ext, "required": false})
		}
		return map[string]any{
			"schemas": []string{schemaResType}, "id": id, "name": id, "endpoint": "/" + endpoint,
			"description": desc, "schema": schema, "schemaExtensions": list,
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/" + id},
		}
	}
	return []map[string]any{
		rt(typeUser, resourceUsers, schemaUser, "A member of the organisation", schemaEnterprise, schemaKMSUser),
		rt(typeGroup, resourceGroups, schemaGroup, "A group of members", schemaKMSGroup),
	}
}

// attr builds an attribute definition (RFC 7643 §7).
func attr(name, typ, desc string, opts ...func(map[string]any)) map[string]any {
	a := map[string]any{
		"name": name, "type": typ, "description": desc, "multiValued": false, "required": false,
		"caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "none",
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

func set(k string, v any) func(map[string]any) { return func(a map[string]any) { a[k] = v } }

var (
	multi    = set("multiValued", true)
	required = set("required", true)
	readOnly = set("mutability", "readOnly")
)

func subs(sa ...map[string]any) func(map[string]any) { return set("subAttributes", sa) }

// docAttrs are the definitions of document attributes.
func docAttrs(list []scimattr.Attr) []map[string]any {
	out := make([]map[string]any, 0, len(list))
	for _, a := range list {
		opts := []func(map[string]any){set("caseExact", a.CaseExact)}
		if a.Multi {
			opts = append(opts, multi)
		}
		if len(a.Subs) > 0 {
			opts = append(opts, subs(docAttrs(a.Subs)...))
		}
		if a.Type == scimattr.TypeReference {
			rt := "external"
			if a.Name == "$ref" {
				rt = typeUser
			}
			opts = append(opts, set("referenceTypes", []string{rt}))
		}
		out = append(out, attr(a.Name, a.Type, a.Desc, opts...))
	}
	return out
}

func schemas(base string) []map[string]any {
	sc := func(id, name, desc string, attrs ...map[string]any) map[string]any {
		return map[string]any{
			"schemas": []string{schemaSchema}, "id": id, "name": name, "description": desc, "attributes": attrs,
			"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + id},
		}
	}
	return []map[string]any{
		sc(schemaUser, typeUser, "A member of the organisation; these attributes are kept, others are ignored", append([]map[string]any{
			attr("userName", "string", "Unique identifier of the user, case-insensitive; usually the email address", required, set("uniqueness", "server")),
			attr("externalId", "string", "The IdP's identifier of the user", set("caseExact", true)),
			attr("name", "complex", "The user's name", subs(append([]map[string]any{
				attr("givenName", "string", "Given name"),
				attr("familyName", "string", "Family name")}, docAttrs(scimattr.Find(scimattr.UserDoc, "name").Subs)...)...)),
			attr("displayName", "string", "Name shown to other members"),
			attr("emails", "complex", "Email addresses", multi, subs(
				attr("value", "string", "Email address"),
				attr("type", "string", "work, home or other", set("canonicalValues", []string{"work", "home", "other"})),
				attr("primary", "boolean", "The primary address"))),
			attr("active", "boolean", "false deprovisions the member (access revoked, data kept); true reactivates"),
		}, docAttrs(scimattr.UserDoc[1:])...)...),
		sc(schemaEnterprise, "EnterpriseUser", "Enterprise User extension (RFC 7643 §4.3); optional", docAttrs(scimattr.EnterpriseDoc)...),
		sc(schemaGroup, typeGroup, "A group of members",
			attr("displayName", "string", "Unique name of the group, case-insensitive", required, set("uniqueness", "server")),
			attr("members", "complex", "Members of the group. A list carries the members of its leading groups while they fit maxListMembers (ServiceProviderConfig, "+schemaKMSConfig+"); the groups after come without members: read those with GET /Groups/{id}", multi, subs(
				attr("value", "string", "id of the member", set("mutability", "immutable")),
				attr("display", "string", "userName of the member", readOnly),
				attr("type", "string", "Always User", readOnly, set("canonicalValues", []string{"User"})),
				attr("$ref", "reference", "URI of the member", readOnly, set("referenceTypes", []string{"User"})))),
		),
		sc(schemaKMSUser, "KMS User", "Read-only KMS state of a member",
			attr(statusAttribute, "string", "pending_setup until the member has created a master key; then active; deprovisioned once access is revoked",
				readOnly, set("caseExact", true), set("canonicalValues", []string{"pending_setup", "active", "deprovisioned"})),
			attr("setupCompleted", "boolean", "Whether the member has ever created a master key", readOnly),
		),
		sc(schemaKMSGroup, "KMS Group", "Read-only KMS state of a group",
			attr("pendingMembers", "complex", "Members who have not created a master key yet and cannot decrypt anything", multi, readOnly, subs(
				attr("value", "string", "id of the member", readOnly),
				attr("display", "string", "userName of the member", readOnly))),
		),
	}
}

// discovery serves the three discovery endpoints; rest is the path after
// the endpoint name ("" or "/<id>").
func (s *Server) discovery(w http.ResponseWriter, r *http.Request, base, endpoint, rest string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.fail(w, r, errorf(http.StatusMethodNotAllowed, "", "%s supports GET only", endpoint))
		return
	}
	var list []map[string]any
	switch endpoint {
	case "ServiceProviderConfig":
		if rest != "" {
			s.fail(w, r, errorf(http.StatusNotFound, "", "no such endpoint"))
			return
		}
		s.write(w, http.StatusOK, s.serviceProviderConfig(base))
		return
	case "ResourceTypes":
		list = resourceTypes(base)
	case "Schemas":
		list = schemas(base)
	}
	if rest == "" {
		res := make([]any, len(list))
		for i := range list {
			res[i] = list[i]
		}
		s.write(w, http.StatusOK, listResponse(res, len(res), 1))
		return
	}
	id := strings.TrimPrefix(rest, "/")
	for _, doc := range list {
		if strings.EqualFold(doc["id"].(string), id) {
			s.write(w, http.StatusOK, doc)
			return
		}
	}
	s.fail(w, r, errorf(http.StatusNotFound, "", "%s %q not found", endpoint, id))
}

func listResponse(resources []any, total, start int) map[string]any {
	return map[string]any{
		"schemas": []string{schemaList}, "totalResults": total, "itemsPerPage": len(resources),
		"startIndex": start, "Resources": resources,
	}
}
