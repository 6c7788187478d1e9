// Package scimattr holds the SCIM attribute rules that the receiver (the
// service provider orgsync serves) and the SCIM pull source (a client of
// another provider) must read alike: the schema URNs, case-insensitive
// attribute lookup, and lenient booleans. Standard library only.
//
// Contract:
//   - Get finds an attribute of a decoded JSON object by name, ignoring
//     case (RFC 7643 §2.1). When several keys of the object match, the
//     answer does not depend on Go's random map order: a key spelled
//     exactly as asked wins; otherwise, of the keys equal to the name
//     under strings.EqualFold, the one first in byte order (so
//     "USERNAME" before "UserName" before "username"). A decoded object
//     no longer knows its keys' order in the document, so "first in the
//     document" cannot be the rule.
//   - Bool accepts a JSON boolean and the strings "true" and "false" in
//     any case and with surrounding spaces (Entra ID and OneLogin send
//     "True"); anything else, an absent value included, is not a boolean.
//     What a caller does with a non-boolean (a 400, a held entry) is its
//     own rule.
//   - UserDoc and EnterpriseDoc define the User attributes kept beyond the
//     store's core columns (RFC 7643 §4.1, §4.3). ReadUser reads them from
//     a resource into a canonical document (canonical names, unknown
//     sub-attributes dropped, null/""/[] unassigned, booleans as JSON
//     booleans, at most one primary), or names the attribute with a wrong
//     value (*ValueError); a document read back reads as itself. Encode
//     sorts keys, so equal documents encode equally.
//   - The URN constants are the schemas of RFC 7643/7644 and orgsync's KMS
//     extension, spelled as they are sent; compare received ones with
//     strings.EqualFold.
package scimattr
