package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/kmsfake"
	"github.com/orgsync/orgsync/store"
)

// TestServeConvergesASecondOrgsync points a scheduled scim target of one
// running orgsync at the SCIM receiver of another: a real SCIM server (not
// the KMS emulator), and serve's scheduling of targets.
func TestServeConvergesASecondOrgsync(t *testing.T) {
	down := writeConfig(t, "")
	downBase, downApp, stopDown := startServe(t, down)
	defer stopDown()
	token, _, err := downApp.st.CreateToken(context.Background(), "acme", "from upstream", 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOWN_TOKEN", token)
	up := writeConfig(t, `targets:
  - name: downstream
    org: acme
    type: scim
    url: `+downBase+`/scim/v2
    token: ${DOWN_TOKEN}
    schedule: "@every 1s"
    page_size: 30
`)
	upBase, upApp, stopUp := startServe(t, up)
	defer stopUp()

	var changes []orgsync.Change
	for i := range 60 {
		n := fmt.Sprintf("p%02d@example.org", i)
		m := orgsync.Member{UserName: n, Emails: []orgsync.Email{{Value: n, Primary: true, Type: "work"}}, GivenName: "P", FamilyName: fmt.Sprint(i)}
		changes = append(changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: n, MemberKey: fmt.Sprint("idp-", i), Member: &m})
	}
	changes = append(changes, orgsync.Change{Action: orgsync.ActionGroupCreate, GroupName: "ops", GroupKey: "g-ops", Group: &orgsync.Group{DisplayName: "ops", ExternalID: "g-ops"}})
	for i := range 5 {
		changes = append(changes, orgsync.Change{Action: orgsync.ActionMemberAdd, GroupName: "ops", GroupKey: "g-ops", UserName: fmt.Sprintf("p%02d@example.org", i), MemberKey: fmt.Sprint("idp-", i)})
	}
	if _, err := upApp.st.Apply(context.Background(), orgsync.Plan{Org: "acme", Owner: orgsync.OwnerSCIM, Changes: changes}); err != nil {
		t.Fatal(err)
	}

	downMembers := func() map[string]orgsync.Member {
		ms, err := downApp.st.Members(context.Background(), "acme", store.MemberFilter{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]orgsync.Member{}
		for _, m := range ms {
			out[m.UserName] = m
		}
		return out
	}
	waitFor := func(what string, ok func(map[string]orgsync.Member) bool) map[string]orgsync.Member {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			ms := downMembers()
			if ok(ms) {
				return ms
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: downstream has %d members", what, len(ms))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	ms := waitFor("first push", func(ms map[string]orgsync.Member) bool { return len(ms) == 60 })
	for n, m := range ms {
		if m.Owner != orgsync.OwnerSCIM || m.Status != orgsync.StatusPendingSetup {
			t.Fatalf("downstream %s: %+v", n, m)
		}
	}
	g, err := downApp.st.MemberWithGroups(context.Background(), "acme", "p03@example.org")
	if err != nil || len(g.Groups) != 1 || g.Groups[0] != "ops" {
		t.Fatalf("p03 downstream groups %v, %v", g.Groups, err)
	}

	// Deprovisioned upstream → deprovisioned downstream.
	p7, _ := upApp.st.Member(context.Background(), "acme", "p07@example.org")
	if _, err := upApp.st.Apply(context.Background(), orgsync.Plan{Org: "acme", Owner: orgsync.OwnerSCIM, Changes: []orgsync.Change{
		{Action: orgsync.ActionDeprovision, UserName: p7.UserName, MemberID: p7.ID}}}); err != nil {
		t.Fatal(err)
	}
	waitFor("suspend", func(ms map[string]orgsync.Member) bool {
		return ms["p07@example.org"].Status == orgsync.StatusDeprovisioned
	})

	runs, err := upApp.st.Runs(context.Background(), store.RunFilter{Source: "downstream"})
	if err != nil || len(runs) == 0 || runs[0].Target != "downstream" {
		t.Fatalf("upstream runs %v, %v", len(runs), err)
	}
	code, body := do(t, "GET", upBase+"/metrics", "", "")
	if code != 200 || !strings.Contains(body, `orgsync_target_requests_total{target="downstream"}`) ||
		!strings.Contains(body, `source="downstream"`) {
		t.Fatalf("metrics miss the target's series:\n%s", grepLines(body, "downstream"))
	}
}

// TestServeReadsSetupStatusOnItsSchedule leaves serve to flip members to
// active as they accept in the KMS, on setup_status.schedule alone.
func TestServeReadsSetupStatusOnItsSchedule(t *testing.T) {
	kms := newKMS(t, kmsfake.Options{})
	t.Setenv("KMS_SCIM_TOKEN", kmsToken)
	t.Setenv("KMS_CLIENT_SECRET", kmsSecret)
	cfg := writeConfig(t, `targets:
  - name: kms
    org: acme
    type: kms-scim
    url: `+kms.URL+`
    token: ${KMS_SCIM_TOKEN}
    setup_status: {client_id: orgsync-machine, client_secret: ${KMS_CLIENT_SECRET}, schedule: "@every 1s"}
`)
	st := configStore(t, cfg)
	var changes []orgsync.Change
	for _, n := range []string{"ana@example.org", "bo@example.org"} {
		changes = append(changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: n, MemberKey: n,
			Member: &orgsync.Member{UserName: n, Emails: []orgsync.Email{{Value: n, Primary: true}}}})
	}
	if _, err := st.Apply(context.Background(), orgsync.Plan{Org: "acme", Owner: orgsync.OwnerSCIM, Changes: changes}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if code, out, errOut := cli(t, cfg, "reconcile", "--target", "kms"); code != 0 {
		t.Fatalf("target run: %d\n%s\n%s", code, out, errOut)
	}
	base, a, stop := startServe(t, cfg)
	defer stop()
	kms.Accept("bo@example.org")
	deadline := time.Now().Add(15 * time.Second)
	for {
		m, err := a.st.Member(context.Background(), "acme", "bo@example.org")
		if err == nil && m.Status == orgsync.StatusActive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bo is still %s", m.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if m, _ := a.st.Member(context.Background(), "acme", "ana@example.org"); m.Status != orgsync.StatusPendingSetup {
		t.Fatalf("ana is %s, want pending_setup", m.Status)
	}
	_, body := do(t, "GET", base+"/metrics", "", "")
	if !strings.Contains(body, `orgsync_target_setup_completed_total{target="kms"} 1`) {
		t.Fatalf("metrics:\n%s", grepLines(body, "target"))
	}
}
