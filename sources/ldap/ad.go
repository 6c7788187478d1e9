package ldap

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// guidString renders an AD objectGUID (16 bytes, the first three fields
// little-endian) as the canonical lowercase GUID string.
func guidString(b []byte) (string, error) {
	if len(b) != 16 {
		return "", fmt.Errorf("objectGUID has %d bytes, want 16", len(b))
	}
	o := [16]byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6],
		b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]}
	var s [36]byte
	hex.Encode(s[0:8], o[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], o[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], o[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], o[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], o[10:16])
	return string(s[:]), nil
}

// uacDisabled is the ACCOUNTDISABLE bit of userAccountControl.
const uacDisabled = 0x2

// adDisabled reports whether an AD account is disabled (userAccountControl
// bit 0x2) or expired (accountExpires in the past). Empty values mean the
// attribute is absent.
func adDisabled(uac, accountExpires string, now time.Time) (bool, error) {
	if uac != "" {
		v, err := strconv.ParseInt(strings.TrimSpace(uac), 10, 64)
		if err != nil {
			return false, fmt.Errorf("userAccountControl %q is not a number", uac)
		}
		if v&uacDisabled != 0 {
			return true, nil
		}
	}
	if accountExpires != "" {
		exp, ok, err := fileTime(accountExpires)
		if err != nil {
			return false, err
		}
		if ok && !now.Before(exp) {
			return true, nil
		}
	}
	return false, nil
}

// neverExpires is the accountExpires value AD writes for "never" besides 0.
const neverExpires = 0x7FFFFFFFFFFFFFFF

// fileTime parses an accountExpires value: 100-ns intervals since
// 1601-01-01 UTC. ok is false for the two "never" values.
func fileTime(s string) (t time.Time, ok bool, err error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("accountExpires %q is not a number", s)
	}
	if v == 0 || v == neverExpires {
		return time.Time{}, false, nil
	}
	// Seconds between 1601-01-01 and 1970-01-01.
	const epochDelta = 11644473600
	sec := v/10_000_000 - epochDelta
	nsec := (v % 10_000_000) * 100
	return time.Unix(sec, nsec).UTC(), true, nil
}

// parseRange splits an attribute description such as "member;range=0-1499"
// into its base name and range. end is -1 for "*" (the last chunk).
func parseRange(desc string) (base string, start, end int, ok bool) {
	i := strings.Index(strings.ToLower(desc), ";range=")
	if i < 0 {
		return desc, 0, 0, false
	}
	base, r := desc[:i], desc[i+len(";range="):]
	lo, hi, found := strings.Cut(r, "-")
	if !found {
		return base, 0, 0, false
	}
	start, err := strconv.Atoi(lo)
	if err != nil || start < 0 {
		return base, 0, 0, false
	}
	if hi == "*" {
		return base, start, -1, true
	}
	end, err = strconv.Atoi(hi)
	if err != nil || end < start {
		return base, 0, 0, false
	}
	return base, start, end, true
}
