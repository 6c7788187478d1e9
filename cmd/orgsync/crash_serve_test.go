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
	t.Cleanup(func() {
		if current != nil && current.ProcessState == nil {
			current.Process.Kill()
			current.Wait()
		}
	})

	for round := 0; round <= rounds; round++ {
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
		delay := time.Duration(500+rng.IntN(5000)) * time.Millisecond
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
	a := &app{configPath: cfg, stdout: os.Stdout, stderr: os.Stderr}
	deadline := time.Now().Add(5*time.Minute + time.Duration(nUsers/1000)*10*time.Second)
	for {
		st, err := a.store(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		runs, _ := st.Runs(context.Background(), store.RunFilter{})
		ms, _ := st.Members(context.Background(), "acme", store.MemberFilter{})
		st.Close()
		converged := false
		for _, r := range runs {
			converged = converged || (r.Result == orgsync.RunApplied && r.Summary[orgsync.ActionProvision] == 0 && len(ms) >= users)
		}
		if converged {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no converged run after the kills (%d runs, %d members)", len(runs), len(ms))
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
	ldapMembers := 0
	keys := map[string]bool{}
	for _, m := range ms {
		if m.Owner == "corp-ldap" {
			ldapMembers++
			if keys[m.ExternalID] {
				t.Fatalf("external id %s held twice", m.ExternalID)
			}
			keys[m.ExternalID] = true
		}
	}
	if ldapMembers != users {
		t.Fatalf("%d directory members after convergence, want %d", ldapMembers, users)
	}
	t.Logf("%d users in the directory; %d SIGKILLs; %d SCIM creates tried, %d acknowledged and present, %d group adds acknowledged and present",
		users, kills, requests, len(ackUsers), len(ackAdds))
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
	a := &app{configPath: cfg, stdout: os.Stdout, stderr: os.Stderr}
	st, err := a.store(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for name, id := range users {
		m, err := st.Member(context.Background(), "acme", name)
		if err != nil || m.ID != id || m.Owner != orgsync.OwnerSCIM {
			t.Fatalf("acknowledged user %s (%s): %+v, %v", name, id, m, err)
		}
	}
	var dups int64
	st.DB().Raw(`SELECT COUNT(*) FROM (SELECT group_id, member_id FROM group_members GROUP BY group_id, member_id HAVING COUNT(*) > 1) d`).Scan(&dups)
	if dups != 0 {
		t.Fatalf("%d duplicate memberships", dups)
	}
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
