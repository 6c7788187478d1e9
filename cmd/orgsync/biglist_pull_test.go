package main

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// TestSCIMSourceReadsGroupsPastTheListCap mirrors org acme of a real serve
// into org beta with a SCIM source. acme's two groups of 6,000 members
// pass the receiver's 10,000 member values per list response, so the
// second group is listed without members; the source reads it alone and
// mirrors both whole (read as empty, beta would lose 6,000 memberships).
func TestSCIMSourceReadsGroupsPastTheListCap(t *testing.T) {
	const size = 6000
	cfg := writeConfig(t, "")
	base, a, stop := startServe(t, cfg)
	defer stop()
	ctx := context.Background()
	ids := make([]string, size)
	for i := range ids {
		m, err := a.st.SCIMCreateMember(ctx, "acme", orgsync.Member{UserName: fmt.Sprintf("u%05d@example.org", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = m.ID
	}
	for _, name := range []string{"all-a", "all-b"} {
		if _, err := a.st.SCIMCreateGroup(ctx, "acme", orgsync.Group{DisplayName: name, Members: ids}); err != nil {
			t.Fatal(err)
		}
	}
	token, _, _ := a.st.CreateToken(ctx, "acme", "mirror", 0)
	body, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(string(body)+`sources:
  - name: acme-mirror
    org: beta
    type: scim
    guard: `+openGuard+`
    scim: {base_url: `+base+`/scim/v2, token: `+token+`, page_size: 1000}
`), 0o600)
	if code, out, errOut := cli(t, cfg, "reconcile", "--format", "json"); code != 0 {
		t.Fatalf("reconcile: %d\n%.2000s\n%s", code, out, errOut)
	}
	ms, err := a.st.Members(ctx, "beta", store.MemberFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != size {
		t.Fatalf("beta has %d members, want %d", len(ms), size)
	}
	for _, m := range ms {
		if len(m.Groups) != 2 {
			t.Fatalf("%s is in %v, want both groups", m.UserName, m.Groups)
		}
	}
	if code, out, _ := cli(t, cfg, "plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after the mirror: exit %d, want 0 (nothing to do)\n%.2000s", code, out)
	}
}
