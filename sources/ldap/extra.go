package ldap

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/orgsync/orgsync/internal/scimattr"
)

// extra holds a user's optional enterprise attributes
// (user.title_attribute, employee_number_attribute, department_attribute,
// manager_attribute).
type extra struct {
	title, employeeNumber, department string
	managerDN                         string // normalised
}

// document is the member's SCIM document of e: title in the core schema,
// the others under the enterprise extension. The manager is the user
// whose DN the manager attribute names, by its id (the member's external
// key) and display name; a DN that is not one of the users read is left
// out. Values are trimmed and bounded as the SCIM receiver bounds them
// (too long a value is left out).
//
// The bytes are those scimattr.Encode gives for the same document as
// nested maps (json.Marshal: keys sorted, strings escaped as it escapes
// them), which stored documents and digests depend on; the shape being
// fixed, they are written directly, in one allocation, instead of
// building and sorting maps per user. extra_doc_test.go keeps the maps as
// the reference.
func (r *reader) document(e *extra) []byte {
	if e == nil {
		return nil
	}
	title, number, dept := docValue(e.title), docValue(e.employeeNumber), docValue(e.department)
	var mgrID, mgrName string
	if e.managerDN != "" {
		if j, ok := r.byDN[e.managerDN]; ok && r.users[j].id != "" && r.users[j].held == "" {
			mgrID, mgrName = docValue(r.users[j].id), docValue(r.users[j].display)
		}
	}
	// Most documents fit: the buffer stays on the stack, and the one
	// allocation is the copy returned.
	var buf [512]byte
	b := append(buf[:0], '{')
	b = appendMember(b, "title", title)
	if dept != "" || number != "" || mgrID != "" || mgrName != "" {
		b = append(appendKey(b, scimattr.EnterpriseUser), '{')
		b = appendMember(b, "department", dept)
		b = appendMember(b, "employeeNumber", number)
		if mgrID != "" || mgrName != "" {
			b = append(appendKey(b, "manager"), '{')
			b = appendMember(b, "displayName", mgrName)
			b = appendMember(b, "value", mgrID)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	if len(b) == 1 {
		return nil
	}
	return bytes.Clone(append(b, '}'))
}

// docValue is v as the document holds it: trimmed, or "" (left out) when
// empty, longer than scimattr.MaxString or holding a NUL.
func docValue(v string) string {
	if v = strings.TrimSpace(v); v != "" && len(v) <= scimattr.MaxString && !strings.ContainsRune(v, 0) {
		return v
	}
	return ""
}

// appendKey appends the object member key key (a constant needing no
// escaping) and its colon, after a comma unless it is the object's first.
func appendKey(b []byte, key string) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// appendMember appends the member key: v unless v is "" (left out).
func appendMember(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendJSONString(appendKey(b, key), v)
}

// jsonSafe says which ASCII bytes json.Marshal writes as they are: not the
// control characters, '"', '\\', nor (HTML escaping) '<', '>' and '&'.
var jsonSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := range safe {
		safe[c] = c >= 0x20 && !strings.ContainsRune(`"\<>&`, rune(c))
	}
	return safe
}()

// appendJSONString appends s as json.Marshal writes a string (Go 1.26
// encoding/json appendString with escapeHTML): \" \\ \b \f \n \r \t, other
// control characters and < > & as \u00XX, U+2028 and U+2029 as \u2028 and
// \u2029, and each invalid UTF-8 byte as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
