package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// TestServeKilledDuringWritesAndReconcile SIGKILLs a real `orgsync serve`
// process at random points while SCIM clients create users and add them
// to a group, and while its scheduler reconciles a large directory;
// restarts it; and checks every time that the store is consistent (file
// integrity, no duplicate memberships, every member with its creation
// event) and that every write a client was told succeeded is there. At
// the end the directory converges: every user exactly once.
// Long variant (scripts/hardening.sh): ORGSYNC_CRASH_USERS=100000
// ORGSYNC_CRASH_ROUNDS=20.
func TestServeKilledDuringWritesAndReconcile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and a large directory")
	}
	nUsers := envInt("ORGSYNC_CRASH_USERS", 20000)
	rounds := envInt("ORGSYNC_CRASH_ROUNDS", 5)
	dir := t.TempDir()
	ldif := filepath.Join(dir, "big.ldif")
	out, err := exec.Command("go", "run", "../../tools/ldifgen", "-mode", "bench", "-users", fmt.Sprint(nUsers), "-groups", "50", "-members", "100").Output()
	if err != nil {
		t.Fatalf("ldifgen: %v", err)
	}
	os.WriteFile(ldif, out, 0o600)
	users := strings.Count(string(out), "objectClass: inetOrgPerson") - strings.Count(string(out), "employeeType: disabled")
	wasDisabled := map[int]bool{}
	for _, block := range strings.Split(string(out), "\n\n") {
		var i int
		if _, err := fmt.Sscanf(block, "dn: uid=user%06d,", &i); err == nil && strings.Contains(block, "employeeType: disabled") {
			wasDisabled[i] = true
		}
	}
	disabled := map[int]bool{} // users this test disabled at the source
	batch := max(200, nUsers/40)
	ldap := startSlapd(t, ldif)
	port := freePort(t)
	cfg := writeConfig(t, `sources:
  - name: corp-ldap
    org: acme
    type: ldap
    schedule: "@every 1s"
    guard: {max_deprovision: 100000, max_deprovision_percent: 100}
    ldap:
      url: `+ldap.url+`
      bind_dn: cn=sync,dc=example,dc=org
      bind_password: sync
      user: {base_dn: "ou=people,dc=example,dc=org", disabled_filter: (employeeType=disabled)}
      group: {base_dn: "ou=groups,dc=example,dc=org"}
`)
	body, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(body), "listen: 127.0.0.1:0", fmt.Sprintf("listen: 127.0.0.1:%d", port), 1)), 0o600)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	_, tokOut, _ := cli(t, cfg, "tokens", "create", "--org", "acme")
	token := strings.TrimSpace(tokOut)
	bin := buildBinary(t)

	var mu sync.Mutex
	ackUsers := map[string]string{} // userName → id, answered 201
	ackAdds := map[string]bool{}    // member id added to the group, answered 204
	groupID := ""
	seq := 0
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	client := &http.Client{Timeout: 10 * time.Second}
	kills, requests := 0, 0
	var current *exec.Cmd
	var finalStart time.Time
	t.Cleanup(func() {
		if current != nil && current.ProcessState == nil {
			current.Process.Kill()
			current.Wait()
		}
	})

	for round := 0; round <= rounds; round++ {
		if round > 0 && round < rounds {
			// New work for this round's reconcile: disable a batch of users
			// at the source, so that the kill can land in a deprovisioning
			// apply too.
			var mod strings.Builder
			for k := 0; k < batch; k++ {
				i := rng.IntN(nUsers)
				disabled[i] = true
				fmt.Fprintf(&mod, "dn: uid=user%06d,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: employeeType\nemployeeType: disabled\n\n", i)
			}
			ldap.modify(t, mod.String())
		}
		cmd := exec.Command(bin, "--config", cfg, "serve")
		cmd.Stderr, cmd.Stdout = nil, nil
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		current = cmd
		waitHealthy(t, base)
		if groupID == "" {
			code, resp := do(t, "POST", base+"/scim/v2/Groups", token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"crash-group"}`)
			var g struct{ ID string }
			if code != 201 || json.Unmarshal([]byte(resp), &g) != nil {
				t.Fatalf("create group: %d %s", code, resp)
			}
			groupID = g.ID
		}
		if round == rounds { // the last round: no kill, let the reconcile finish
			finalStart = time.Now().Add(-time.Second)
			break
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					seq++
					name := fmt.Sprintf("scim-%06d@example.org", seq)
					requests++
					mu.Unlock()
					code, resp, err := post(client, base+"/scim/v2/Users", token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`"}`)
					if err != nil {
						return // the server is gone
					}
					if code != 201 {
						continue
					}
					var u struct{ ID string }
					json.Unmarshal([]byte(resp), &u)
					mu.Lock()
					ackUsers[name] = u.ID
					mu.Unlock()
					code, _, err = patch(client, base+"/scim/v2/Groups/"+groupID, token,
						`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+u.ID+`"}]}]}`)
					if err != nil {
						return
					}
					if code == 204 || code == 200 {
						mu.Lock()
						ackAdds[u.ID] = true
						mu.Unlock()
					}
				}
			}()
		}
		// Up to about one whole run of this directory's size: some kills
		// land in the middle of an apply, some after it.
		delay := time.Duration(500+rng.IntN(5000+nUsers/20)) * time.Millisecond
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		kills++
		close(stop)
		wg.Wait()
		checkConsistent(t, cfg)
		checkAcknowledged(t, cfg, groupID, ackUsers, ackAdds)
		n := len(members(t, cfg)) - len(ackUsers)
		t.Logf("round %d: SIGKILL after %v; %d directory members of %d, %d SCIM users acknowledged so far", round, delay, n, users, len(ackUsers))
	}

	// Let the scheduler finish a whole run, then stop the daemon cleanly.
	deadline := time.Now().Add(time.Minute + time.Duration(nUsers/1000)*3*time.Second)
	for {
		st := configStore(t, cfg)
		runs, _ := st.Runs(context.Background(), store.RunFilter{})
		ms, _ := st.Members(context.Background(), "acme", store.MemberFilter{})
		st.Close()
		converged := false
		for _, r := range runs { // a run of the last daemon that found nothing left to do
			changes := 0
			for _, n := range r.Summary {
				changes += n
			}
			converged = converged || (r.Result == orgsync.RunApplied && changes == 0 && r.StartedAt.After(finalStart))
		}
		if converged {
			break
		}
		if time.Now().After(deadline) {
			var last []string
			for _, r := range runs[:min(3, len(runs))] {
				last = append(last, fmt.Sprintf("%s %s %v %s", r.StartedAt.Format(time.RFC3339), r.Result, r.Summary, r.Error))
			}
			t.Fatalf("no converged run after the kills (%d runs, %d members; newest: %s)", len(runs), len(ms), strings.Join(last, "; "))
		}
		time.Sleep(time.Second)
	}
	current.Process.Signal(syscall.SIGTERM)
	if err := current.Wait(); err != nil {
		t.Fatalf("serve after the kills did not stop cleanly: %v", err)
	}
	checkConsistent(t, cfg)
	checkAcknowledged(t, cfg, groupID, ackUsers, ackAdds)
	ms := members(t, cfg)
	// Every user enabled at the source is a member, active; every user
	// this test disabled is deprovisioned, or was never provisioned; no
	// external key is held twice.
	byIndex := map[int]orgsync.Member{}
	keys := map[string]bool{}
	for _, m := range ms {
		if m.Owner != "corp-ldap" {
			continue
		}
		if keys[m.ExternalID] {
			t.Fatalf("external id %s held twice", m.ExternalID)
		}
		keys[m.ExternalID] = true
		var i int
		if _, err := fmt.Sscanf(m.UserName, "user%06d@", &i); err != nil {
			t.Fatalf("unexpected member %s", m.UserName)
		}
		byIndex[i] = m
	}
	wantOff, off := 0, 0
	for i := 0; i < nUsers; i++ {
		m, ok := byIndex[i]
		switch {
		case wasDisabled[i]:
			if ok {
				t.Fatalf("user %d, disabled at the source from the start, was provisioned", i)
			}
		case disabled[i]:
			wantOff++
			if ok && m.Status != orgsync.StatusDeprovisioned {
				t.Fatalf("user %d was disabled at the source but is %s", i, m.Status)
			}
			if ok {
				off++
			}
		case !ok || m.Status == orgsync.StatusDeprovisioned:
			t.Fatalf("user %d, enabled at the source, is missing or deprovisioned (%v)", i, ok)
		}
	}
	t.Logf("%d users in the directory, %d disabled during the kills (%d of them deprovisioned, the others never provisioned); %d SIGKILLs; %d SCIM creates tried, %d acknowledged and present, %d group adds acknowledged and present",
		users, wantOff, off, kills, requests, len(ackUsers), len(ackAdds))
}

func post(c *http.Client, url, token, body string) (int, string, error) {
	return send(c, "POST", url, token, body)
}

func patch(c *http.Client, url, token, body string) (int, string, error) {
	return send(c, "PATCH", url, token, body)
}

func send(c *http.Client, method, url, token, body string) (int, string, error) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String(), nil
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("serve did not become healthy")
}

// checkAcknowledged: every user a client got 201 for exists, once, owned
// by scim; every member a client got 204 for is in the group, once.
func checkAcknowledged(t *testing.T, cfg, groupID string, users map[string]string, adds map[string]bool) {
	t.Helper()
	st := configStore(t, cfg)
	defer st.Close()
	for name, id := range users {
		m, err := st.Member(context.Background(), "acme", name)
		if err != nil || m.ID != id || m.Owner != orgsync.OwnerSCIM {
			t.Fatalf("acknowledged user %s (%s): %+v, %v", name, id, m, err)
		}
	}
	db := configDB(t, cfg)
	defer db.Close()
	if dups := count(t, db, `SELECT COUNT(*) FROM (SELECT group_id, member_id FROM group_members GROUP BY group_id, member_id HAVING COUNT(*) > 1) d`); dups != 0 {
		t.Fatalf("%d duplicate memberships", dups)
	}
	// Every change that committed has its event (they commit together).
	have := map[string]bool{}
	rows, err := db.Query(`SELECT kind, member_id, group_id FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var kind, member, group string
		rows.Scan(&kind, &member, &group)
		have[kind+"|"+member+"|"+group] = true
		have[kind+"|"+member] = true
	}
	rows.Close()
	missing := func(what, q string, key func(a, b string) string) {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var a, b string
			rows.Scan(&a, &b)
			if !have[key(a, b)] {
				n++
			}
		}
		if n != 0 {
			t.Fatalf("half-applied write: %d %s", n, what)
		}
	}
	missing("members without their member.created event", `SELECT id, status FROM members`,
		func(id, _ string) string { return "member.created|" + id })
	missing("deprovisioned members without a member.deprovisioned event", `SELECT id, status FROM members WHERE status = 'deprovisioned'`,
		func(id, _ string) string { return "member.deprovisioned|" + id })
	missing("memberships without their group.member_added event", `SELECT member_id, group_id FROM group_members`,
		func(m, g string) string { return "group.member_added|" + m + "|" + g })
	if groupID == "" {
		return
	}
	g, _, err := st.SCIMGroup(context.Background(), "acme", groupID, true)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]bool{}
	for _, id := range g.Members {
		in[id] = true
	}
	for id := range adds {
		if !in[id] {
			t.Fatalf("acknowledged group add of %s is lost", id)
		}
	}
}
