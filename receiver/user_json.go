package receiver

import (
	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/scimattr"
)

// userJSON is the SCIM representation of a member: its core attributes,
// the attributes of its document (name's other sub-attributes merged into
// name), and the KMS extension. schemas lists the enterprise URN when the
// member carries the extension.
func userJSON(base string, m orgsync.Member) map[string]any {
	u := map[string]any{
		"id":       m.ID,
		"userName": m.UserName,
		"active":   m.Status != orgsync.StatusDeprovisioned,
		"meta": map[string]any{
			"resourceType": typeUser, "created": stamp(m.CreatedAt), "lastModified": stamp(m.UpdatedAt),
			"location": base + "/Users/" + m.ID, "version": etag(m.Version),
		},
		schemaKMSUser: map[string]any{statusAttribute: string(m.Status), "setupCompleted": m.SetupCompletedAt != nil},
	}
	schemas := []string{schemaUser}
	if m.ExternalID != "" {
		u["externalId"] = m.ExternalID
	}
	if m.DisplayName != "" {
		u["displayName"] = m.DisplayName
	}
	name := map[string]any{}
	if m.GivenName != "" {
		name["givenName"] = m.GivenName
	}
	if m.FamilyName != "" {
		name["familyName"] = m.FamilyName
	}
	if len(m.Attributes) > 0 {
		// A stored document was validated when written; one that does not
		// decode is left out rather than failing the read.
		doc, _ := scimattr.Decode(m.Attributes)
		for k, v := range doc {
			if k == "name" {
				if sub, ok := v.(map[string]any); ok {
					for sk, sv := range sub {
						name[sk] = sv
					}
				}
				continue
			}
			u[k] = v
		}
		if _, ok := doc[schemaEnterprise]; ok {
			schemas = append(schemas, schemaEnterprise)
		}
	}
	if len(name) > 0 {
		u["name"] = name
	}
	if len(m.Emails) > 0 {
		emails := make([]any, 0, len(m.Emails))
		for _, e := range m.Emails {
			em := map[string]any{"value": e.Value, "primary": e.Primary}
			if e.Type != "" {
				em["type"] = e.Type
			}
			emails = append(emails, em)
		}
		u["emails"] = emails
	}
	u["schemas"] = append(schemas, schemaKMSUser)
	return u
}
