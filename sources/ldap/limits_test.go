package ldap

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestReadLimits: a directory sending more entries than ldap.max_entries,
// or a message larger than ldap.max_message_bytes, fails the read with an
// error naming the setting; nothing of it is returned.
func TestReadLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		handle func(w *respWriter, req srvSearch)
		mutate func(*Config)
		want   []string // empty: the read succeeds
	}{
		{"entries over the cap", adLike(3500, nil), func(c *Config) { c.MaxEntries = 3000 },
			[]string{"more than 3000 entries", "ldap.max_entries", "ldap.user.base_dn", "nothing was synced"}},
		{"entries at the cap", adLike(3500, nil), func(c *Config) { c.MaxEntries = 3500 }, nil},
		{"a message over the cap", adLike(1600, nil), func(c *Config) { c.MaxMessageBytes = 16 << 10 },
			[]string{"ldap.max_message_bytes (16384", "nothing was synced"}},
		{"a message announcing 2 GiB", func(w *respWriter, req srvSearch) {
			// A length the server never sends: refused before buffering.
			w.c.Write([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01})
		}, nil, []string{"a response message of 2147483647 bytes, over ldap.max_message_bytes (67108864"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.handle)
			start := time.Now()
			snap, err := snapshotCtx(t, serverSource(t, srv, tc.mutate))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Snapshot: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Snapshot = %d members, no error", len(snap.Members))
			}
			if len(snap.Members)+len(snap.Groups) != 0 {
				t.Errorf("a refused read returned %d members and %d groups", len(snap.Members), len(snap.Groups))
			}
			if !errors.Is(err, errTooLarge) {
				t.Errorf("error %v is not errTooLarge", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("the refusal took %s", time.Since(start))
			}
		})
	}
}

func TestReadLimitsValidated(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"negative entries", func(c *Config) { c.MaxEntries = -1 }, "ldap.max_entries: must be between 1 and"},
		{"too many entries", func(c *Config) { c.MaxEntries = maxMaxEntries + 1 }, "ldap.max_entries"},
		{"tiny messages", func(c *Config) { c.MaxMessageBytes = 100 }, "ldap.max_message_bytes: must be between 4096"},
		{"huge messages", func(c *Config) { c.MaxMessageBytes = 2 << 30 }, "ldap.max_message_bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{URL: "ldap://127.0.0.1:389", User: UserConfig{BaseDN: "dc=x"}}
			c.SetDefaults()
			tc.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
	c := Config{}
	c.SetDefaults()
	if c.MaxEntries != DefaultMaxEntries || c.MaxMessageBytes != DefaultMaxMessageBytes {
		t.Errorf("defaults: %d entries, %d bytes", c.MaxEntries, c.MaxMessageBytes)
	}
}

// TestEndlessRangesAreBounded: an AD-like server whose ranged member
// attribute never ends ("member;range=N-M" forever) fails the read once a
// group has more than ldap.max_entries ranged values, instead of reading
// until the timeout with memory growing.
func TestEndlessRangesAreBounded(t *testing.T) {
	base := adLike(1600, nil)
	srv := startServer(t, func(w *respWriter, req srvSearch) {
		if !strings.HasPrefix(strings.ToLower(strings.Join(req.Attrs, "")), "member;range=") {
			base(w, req)
			return
		}
		var start int
		fmt.Sscanf(req.Attrs[0], "member;range=%d-*", &start)
		var vals []string
		for i := start; i < start+1500; i++ {
			vals = append(vals, fmt.Sprintf("member;range=%d-%d", start, start+1499), fmt.Sprintf("CN=User %04d,OU=Users,DC=corp,DC=x", i%1600))
		}
		w.entry(req.Base, vals...)
		w.done(0, "", nil)
	})
	start := time.Now()
	snap, err := snapshotCtx(t, serverSource(t, srv, func(c *Config) { c.MaxEntries = 6000 }))
	if err == nil || !errors.Is(err, errTooLarge) || !strings.Contains(err.Error(), "more than 6000 ranged member values, over ldap.max_entries") {
		t.Fatalf("Snapshot: %d members, %v", len(snap.Members), err)
	}
	if len(snap.Members) != 0 || time.Since(start) > 10*time.Second {
		t.Errorf("%d members after %s", len(snap.Members), time.Since(start))
	}
}
