package scimattr

import "strings"

// EnterpriseUser is the URN of the enterprise User extension (RFC 7643 §4.3).
const EnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// Attribute types of RFC 7643 §2.3 that the document attributes use.
const (
	TypeString    = "string"
	TypeBoolean   = "boolean"
	TypeReference = "reference"
	TypeBinary    = "binary"
	TypeComplex   = "complex"
)

// Attr defines one attribute a User document keeps: its canonical name,
// type, whether it is multi-valued, how strings compare (CaseExact), and
// the sub-attributes of a complex one.
type Attr struct {
	Name      string
	Type      string
	Multi     bool
	CaseExact bool
	Desc      string
	Subs      []Attr
	// StringIsValue: a plain string stands for {"value": string} (the
	// legacy manager form Entra sends).
	StringIsValue bool
}

func str(name, desc string) Attr { return Attr{Name: name, Type: TypeString, Desc: desc} }

func exact(a Attr) Attr { a.CaseExact = true; return a }

func ref(name, desc string) Attr {
	return Attr{Name: name, Type: TypeReference, Desc: desc, CaseExact: true}
}

// multi is a multi-valued complex attribute with the usual type, primary
// and display sub-attributes after its own.
func multi(name, desc string, value Attr, more ...Attr) Attr {
	subs := append([]Attr{value}, more...)
	subs = append(subs, str("display", "A human-readable name"), str("type", "A label: work, home, other, …"),
		Attr{Name: "primary", Type: TypeBoolean, Desc: "The preferred value; at most one is true"})
	return Attr{Name: name, Type: TypeComplex, Multi: true, Desc: desc, Subs: subs}
}

// UserDoc lists the attributes of the core User schema (RFC 7643 §4.1)
// kept in a member's document: all but those the store keeps in columns
// (userName, externalId, displayName, name.givenName, name.familyName,
// emails, active) and the read-only or write-only ones (id, meta, groups,
// password). "name" here holds only its other sub-attributes.
var UserDoc = []Attr{
	{Name: "name", Type: TypeComplex, Desc: "The user's name", Subs: []Attr{
		str("formatted", "The full name"), str("middleName", "Middle name"),
		str("honorificPrefix", "Honorific prefix (Ms.)"), str("honorificSuffix", "Honorific suffix (III)"),
	}},
	str("nickName", "Casual name"),
	ref("profileUrl", "URL of the user's online profile"),
	str("title", "Job title"),
	str("userType", "Relationship to the organisation (Employee, Contractor, …)"),
	str("preferredLanguage", "Preferred language (en-US)"),
	str("locale", "Locale for formatting (en-US)"),
	str("timezone", "Time zone (America/Los_Angeles)"),
	multi("phoneNumbers", "Phone numbers", str("value", "The phone number")),
	multi("ims", "Instant messaging addresses", str("value", "The address")),
	multi("photos", "URLs of photos of the user", ref("value", "URL of a photo")),
	{Name: "addresses", Type: TypeComplex, Multi: true, Desc: "Physical mailing addresses", Subs: []Attr{
		str("formatted", "The full address"), str("streetAddress", "Street"), str("locality", "City"),
		str("region", "State or region"), str("postalCode", "Postal code"), str("country", "Country (ISO 3166-1 alpha-2)"),
		str("type", "work, home or other"), {Name: "primary", Type: TypeBoolean, Desc: "The preferred address; at most one is true"},
	}},
	multi("roles", "Roles of the user in the IdP (kept as sent; not the KMS role)", str("value", "The role")),
	multi("entitlements", "Entitlements", str("value", "The entitlement")),
	multi("x509Certificates", "Certificates (base64 DER)", exact(Attr{Name: "value", Type: TypeBinary, Desc: "The certificate"})),
}

// EnterpriseDoc lists the attributes of the enterprise User extension
// (RFC 7643 §4.3), kept under its URN in the document.
var EnterpriseDoc = []Attr{
	str("employeeNumber", "Employee number"),
	str("costCenter", "Cost center"),
	str("organization", "Organisation"),
	str("division", "Division"),
	str("department", "Department"),
	{Name: "manager", Type: TypeComplex, Desc: "The user's manager", StringIsValue: true, Subs: []Attr{
		str("value", "id of the manager"), ref("$ref", "URI of the manager"), str("displayName", "Name of the manager"),
	}},
}

// Find returns the attribute of attrs named name (any case), or nil.
func Find(attrs []Attr, name string) *Attr {
	for i := range attrs {
		if strings.EqualFold(attrs[i].Name, name) {
			return &attrs[i]
		}
	}
	return nil
}

// CoreUserColumn reports whether name (any case; sub "" for the attribute
// itself) is a core User attribute the store keeps outside the document.
func CoreUserColumn(name, sub string) bool {
	switch strings.ToLower(name) {
	case "username", "externalid", "displayname", "emails", "active":
		return true
	case "name":
		s := strings.ToLower(sub)
		return s == "givenname" || s == "familyname"
	}
	return false
}
