package receiver_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/orgsync/orgsync/receiver"
)

// TestConcurrentGroupPatches: Entra sends concurrent single-member PATCHes
// to one group; over real HTTP, none is lost, and concurrent creates of one
// userName yield exactly one member.
func TestConcurrentGroupPatches(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg, ok := b.cfg(t)
			if !ok {
				t.Skipf("%s not configured", b.name)
			}
			e := newEnv(t, cfg, receiver.Options{})
			const n = 24
			ids := make([]string, n)
			for i := range ids {
				r := e.do("POST", "/Users", nil, []byte(fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"c%02d@example.org"}`, i)))
				if r.status != 201 {
					t.Fatal(r.status, string(r.raw))
				}
				ids[i] = r.body["id"].(string)
			}
			g := e.do("POST", "/Groups", nil, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"all"}`))
			gid := g.body["id"].(string)
			var wg sync.WaitGroup
			statuses := make(chan int, 2*n)
			for _, id := range ids {
				wg.Add(2)
				body := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"` + id + `"}]}]}`)
				go func() { defer wg.Done(); statuses <- e.do("PATCH", "/Groups/"+gid, nil, body).status }()
				go func() { defer wg.Done(); statuses <- e.do("PATCH", "/Groups/"+gid, nil, body).status }() // repeated
			}
			wg.Wait()
			close(statuses)
			for s := range statuses {
				if s != 204 {
					t.Fatalf("PATCH answered %d", s)
				}
			}
			r := e.do("GET", "/Groups/"+gid, nil, nil)
			if members, _ := r.body["members"].([]any); len(members) != n || r.body["meta"].(map[string]any)["version"] != fmt.Sprintf(`W/"%d"`, n+1) {
				t.Fatalf("group has %d members, meta %v; want %d at version %d", len(members), r.body["meta"], n, n+1)
			}

			created := make(chan int, 8)
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					created <- e.do("POST", "/Users", nil, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"race@example.org"}`)).status
				}()
			}
			wg.Wait()
			close(created)
			count := map[int]int{}
			for s := range created {
				count[s]++
			}
			if count[201] != 1 || count[409] != 7 {
				t.Fatalf("concurrent creates answered %v, want one 201 and seven 409", count)
			}
		})
	}
}
