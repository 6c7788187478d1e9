package ldap

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"
)

// normDN returns the comparison form of a DN: attribute types and values
// case-folded, spaces around separators dropped, escapes made canonical, so
// that a member value and the entry's own DN compare equal however each
// server or admin spelled them.
func normDN(dn string) string { return string(appendNormDN(nil, []byte(dn))) }

// appendNormDN appends the comparison form of dn to dst.
//
// Most DNs are plain ASCII without escapes; they are only lower-cased, in
// place, without allocating. Anything else goes through goldap.ParseDN. A
// DN that does not parse is compared as written, lower-cased.
func appendNormDN(dst, dn []byte) []byte {
	if !plainDN(dn) {
		parsed, err := goldap.ParseDN(string(dn))
		if err == nil {
			return append(dst, canonicalDN(parsed)...)
		}
		dn = bytes.TrimSpace(dn)
		if !utf8.Valid(dn) {
			return append(dst, dn...)
		}
		return append(dst, strings.ToLower(string(dn))...)
	}
	for _, c := range dn {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func canonicalDN(dn *goldap.DN) string {
	var b strings.Builder
	for i, rdn := range dn.RDNs {
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
func plainDN(dn []byte) bool {
	for i, c := range dn {
		switch c {
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
func stripUID(v []byte) []byte {
	if !bytes.HasSuffix(v, []byte("'B")) {
		return v
	}
	i := bytes.LastIndex(v, []byte("#'"))
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
