package wire

import (
	"errors"
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// Decoding of the LDAP responses the source reads, in place: entries are
// views into the message buffer, so a streamed search allocates next to
// nothing per entry (go-asn1-ber builds a tree of packets and copies every
// value, about 33 KB of garbage per entry; that made reading 100k users
// five times slower than ldapsearch). Requests are still encoded with
// go-asn1-ber and go-ldap's filter compiler.

// BER tags of the LDAP PDUs (RFC 4511 appendix B).
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagEnumerated  = 0x0a
	tagSequence    = 0x30
	tagSet         = 0x31
	tagControls    = 0xa0 // [0] constructed, in LDAPMessage
	tagReferral    = 0xa3 // [3] constructed, in LDAPResult

	opBindResponse          = 0x61
	opSearchResultEntry     = 0x64
	opSearchResultDone      = 0x65
	opSearchResultReference = 0x73
	opExtendedResponse      = 0x78
	opIntermediateResponse  = 0x79
)

// ErrMalformed is wrapped by every error about a response that does not
// decode as LDAP: after one, the connection is out of step and closed for
// use.
var ErrMalformed = errors.New("malformed LDAP response")

// tlv splits the BER element at the start of b into its tag and content and
// returns the bytes after it. LDAP uses definite lengths and one-byte tags.
func tlv(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 || b[0]&0x1f == 0x1f {
		return 0, nil, nil, ErrMalformed
	}
	tag = b[0]
	l, i := int(b[1]), 2
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 4 || len(b) < 2+n {
			return 0, nil, nil, ErrMalformed
		}
		l = 0
		for _, c := range b[2 : 2+n] {
			l = l<<8 | int(c)
		}
		i = 2 + n
	}
	if l < 0 || len(b)-i < l {
		return 0, nil, nil, ErrMalformed
	}
	return tag, b[i : i+l], b[i+l:], nil
}

// expect is tlv that insists on a tag.
func expect(b []byte, want byte) (content, rest []byte, err error) {
	tag, content, rest, err := tlv(b)
	if err == nil && tag != want {
		err = fmt.Errorf("%w: tag 0x%02x where 0x%02x belongs", ErrMalformed, tag, want)
	}
	return content, rest, err
}

// berInt decodes a two's complement big-endian integer.
func berInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 8 {
		return 0, ErrMalformed
	}
	v := int64(int8(b[0]))
	for _, c := range b[1:] {
		v = v<<8 | int64(c)
	}
	return v, nil
}

// message is one LDAPMessage, its parts still encoded.
type message struct {
	id       int64
	op       byte
	body     []byte
	controls []byte
}

func parseMessage(b []byte) (message, error) {
	var m message
	idb, rest, err := expect(b, tagInteger)
	if err != nil {
		return m, err
	}
	if m.id, err = berInt(idb); err != nil {
		return m, err
	}
	if m.op, m.body, rest, err = tlv(rest); err != nil {
		return m, err
	}
	if len(rest) > 0 {
		if m.controls, _, err = expect(rest, tagControls); err != nil {
			return m, err
		}
	}
	return m, nil
}

// resultError decodes an LDAPResult; it returns nil for success and a
// *goldap.Error carrying the code, diagnostic and referrals otherwise.
func resultError(body []byte) error {
	codeb, rest, err := expect(body, tagEnumerated)
	if err != nil {
		return err
	}
	code, err := berInt(codeb)
	if err != nil {
		return err
	}
	matched, rest, err := expect(rest, tagOctetString)
	if err != nil {
		return err
	}
	diag, rest, err := expect(rest, tagOctetString)
	if err != nil {
		return err
	}
	if code == goldap.LDAPResultSuccess {
		return nil
	}
	msg := strings.TrimSpace(string(diag))
	if tag, refs, _, err := tlv(rest); err == nil && tag == tagReferral {
		var urls []string
		for len(refs) > 0 {
			var u []byte
			if u, refs, err = expect(refs, tagOctetString); err != nil {
				break
			}
			urls = append(urls, string(u))
		}
		msg = strings.TrimSpace(msg + " (referral to " + strings.Join(urls, ", ") + ")")
	}
	return &goldap.Error{ResultCode: uint16(code), Err: errors.New(msg), MatchedDN: string(matched)}
}

// DecodeEntry decodes msg, the content of one LDAPMessage as Search reads
// it into its buffer, into e when it is a SearchResultEntry: e then points
// into msg, as Search's entries point into its buffer. It reports false
// for a well-formed message of another kind. Search does not need it; it
// is the decoder on its own, for benchmarks and fuzzing of what a caller
// does with an entry.
func DecodeEntry(msg []byte, e *Entry) (bool, error) {
	m, err := parseMessage(msg)
	if err != nil || m.op != opSearchResultEntry {
		return false, err
	}
	return true, parseEntry(m.body, e)
}

// parseEntry decodes a SearchResultEntry body into e, reusing its slices.
func parseEntry(body []byte, e *Entry) error {
	dn, rest, err := expect(body, tagOctetString)
	if err != nil {
		return err
	}
	attrs, _, err := expect(rest, tagSequence)
	if err != nil {
		return err
	}
	e.DN = dn
	e.Attrs = e.Attrs[:0]
	for len(attrs) > 0 {
		var a, name, vals []byte
		if a, attrs, err = expect(attrs, tagSequence); err != nil {
			return err
		}
		if name, a, err = expect(a, tagOctetString); err != nil {
			return err
		}
		if vals, _, err = expect(a, tagSet); err != nil {
			return err
		}
		n := len(e.Attrs)
		if n < cap(e.Attrs) {
			e.Attrs = e.Attrs[:n+1]
		} else {
			e.Attrs = append(e.Attrs, Attribute{})
		}
		at := &e.Attrs[n]
		at.Name, at.Values = name, at.Values[:0]
		for len(vals) > 0 {
			var v []byte
			if v, vals, err = expect(vals, tagOctetString); err != nil {
				return err
			}
			at.Values = append(at.Values, v)
		}
	}
	return nil
}

// parseReference decodes a SearchResultReference: one or more URLs.
func parseReference(body []byte) ([]string, error) {
	var urls []string
	for len(body) > 0 {
		u, rest, err := expect(body, tagOctetString)
		if err != nil {
			return nil, err
		}
		urls = append(urls, string(u))
		body = rest
	}
	return urls, nil
}

// parsePaging finds the paged-results control among controls and returns
// its cookie.
func parsePaging(controls []byte) (cookie []byte, found bool, err error) {
	for len(controls) > 0 {
		var c, oid []byte
		if c, controls, err = expect(controls, tagSequence); err != nil {
			return nil, false, err
		}
		if oid, c, err = expect(c, tagOctetString); err != nil {
			return nil, false, err
		}
		if string(oid) != goldap.ControlTypePaging {
			continue
		}
		tag, v, rest, err := tlv(c)
		if err == nil && tag == 0x01 { // criticality
			tag, v, _, err = tlv(rest)
		}
		if err != nil || tag != tagOctetString {
			return nil, false, fmt.Errorf("%w: paged-results control without a value", ErrMalformed)
		}
		seq, _, err := expect(v, tagSequence)
		if err != nil {
			return nil, false, err
		}
		_, seq, err = expect(seq, tagInteger)
		if err != nil {
			return nil, false, err
		}
		cookie, _, err = expect(seq, tagOctetString)
		if err != nil {
			return nil, false, err
		}
		return cookie, true, nil
	}
	return nil, false, nil
}
