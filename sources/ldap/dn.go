package ldap

import (
	"sort"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// normDN returns the comparison form of a DN: attribute types and values
// case-folded, spaces around separators dropped, escapes made canonical, so
// that a member value and the entry's own DN compare equal however each
// server or admin spelled them. The result may share memory with dn.
//
// Most DNs are plain ASCII without escapes; they are only lower-cased.
// Anything else goes through goldap.ParseDN. A DN that does not parse is
// compared as written, lower-cased.
func normDN(dn string) string {
	if plainDN(dn) {
		return strings.ToLower(dn)
	}
	parsed, err := goldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(dn))
	}
	var b strings.Builder
	b.Grow(len(dn))
	for i, rdn := range parsed.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		parts := make([]string, len(rdn.Attributes))
		for j, a := range rdn.Attributes {
			parts[j] = strings.ToLower(a.Type) + "=" + goldap.EscapeDN(strings.ToLower(a.Value))
		}
		sort.Strings(parts)
		b.WriteString(strings.Join(parts, "+"))
	}
	return b.String()
}

// plainDN reports whether lower-casing alone makes dn canonical: ASCII, no
// escapes, quotes, multi-valued RDNs or hex values, and no spaces next to a
// separator.
func plainDN(dn string) bool {
	if dn == "" {
		return true
	}
	for i := 0; i < len(dn); i++ {
		switch c := dn[i]; c {
		case '\\', '"', '+', ';', '#', '<', '>':
			return false
		case ' ':
			if i == 0 || i == len(dn)-1 {
				return false
			}
			switch dn[i-1] {
			case ',', '=':
				return false
			}
			switch dn[i+1] {
			case ',', '=':
				return false
			}
		default:
			if c >= 0x80 {
				return false
			}
		}
	}
	return true
}

// stripUID drops the optional #'…'B unique identifier that uniqueMember
// values may carry after the DN (RFC 4517 NameAndOptionalUID).
func stripUID(v string) string {
	if !strings.HasSuffix(v, "'B") {
		return v
	}
	i := strings.LastIndex(v, "#'")
	if i <= 0 || v[i-1] == '\\' {
		return v
	}
	for _, c := range v[i+2 : len(v)-2] {
		if c != '0' && c != '1' {
			return v
		}
	}
	return v[:i]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
