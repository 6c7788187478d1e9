package scimattr

import "strings"

// Schema URNs: the core resources and messages of RFC 7643/7644, and the
// KMS extension orgsync adds to Users and Groups.
const (
	User                  = "urn:ietf:params:scim:schemas:core:2.0:User"
	Group                 = "urn:ietf:params:scim:schemas:core:2.0:Group"
	ServiceProviderConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	ResourceType          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	Schema                = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	ListResponse          = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchOp               = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SearchRequest         = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	Error                 = "urn:ietf:params:scim:api:messages:2.0:Error"
	KMSUser               = "urn:hanzo:params:scim:schemas:extension:kms:2.0:User"
	KMSGroup              = "urn:hanzo:params:scim:schemas:extension:kms:2.0:Group"
	KMSConfig             = "urn:hanzo:params:scim:schemas:extension:kms:2.0:ServiceProviderConfig"
)

// Get returns the value of the attribute name in obj and whether obj has
// it, matching names case-insensitively. An exact spelling wins; among
// other spellings, the first in byte order (see the package doc).
func Get(obj map[string]any, name string) (any, bool) {
	if v, ok := obj[name]; ok {
		return v, true
	}
	var (
		key   string
		value any
		found bool
	)
	for k, v := range obj {
		if strings.EqualFold(k, name) && (!found || k < key) {
			key, value, found = k, v, true
		}
	}
	return value, found
}

// Bool reads a SCIM boolean leniently: true and false, or the strings
// "true" and "false" in any case, spaces around them ignored. ok is false
// for anything else, including nil.
func Bool(v any) (b, ok bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}
