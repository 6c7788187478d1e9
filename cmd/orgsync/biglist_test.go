package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
)

// heapPeak samples the heap in use until stop is called, and returns the
// highest value seen.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

// getCounted GETs url and returns the status and the body.
func getCounted(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, b
}

// TestGroupListOfLargeGroupsIsBounded: a list of 100 groups of 2,000
// members each through a real serve carries the members of the leading
// groups up to the declared cap (10,000) and lists the others without
// members (never part of a group's members); body and memory stay small,
// six such lists at once do not multiply memory, the groups listed
// without members come whole from GET /Groups/{id}, and another org is
// served at once during the burst.
func TestGroupListOfLargeGroupsIsBounded(t *testing.T) {
	groups, size := envInt("ORGSYNC_BIGLIST_GROUPS", 100), envInt("ORGSYNC_BIGLIST_MEMBERS", 2000)
	if testing.Short() {
		groups = 20
	}
	base, a, stop := startServe(t, writeConfig(t, ""))
	defer stop()
	ctx := context.Background()
	seedStart := time.Now()
	ids := make([]string, size)
	for i := range ids {
		m, err := a.st.SCIMCreateMember(ctx, "acme", orgsync.Member{UserName: fmt.Sprintf("user%05d@example.org", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = m.ID
	}
	gids := make([]string, groups)
	for i := range gids {
		g, err := a.st.SCIMCreateGroup(ctx, "acme", orgsync.Group{DisplayName: fmt.Sprintf("group-%03d", i), Members: ids})
		if err != nil {
			t.Fatal(err)
		}
		gids[i] = g.ID
	}
	acme, _, _ := a.st.CreateToken(ctx, "acme", "idp", 0)
	beta, _, _ := a.st.CreateToken(ctx, "beta", "idp", 0)
	t.Logf("seeded %d groups × %d members in %v", groups, size, time.Since(seedStart))
	list := base + "/scim/v2/Groups?count=" + fmt.Sprint(groups)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := heapPeak()
	code, body := getCounted(t, list, acme)
	top := peak()
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	grew := int64(top) - int64(before.HeapInuse)
	t.Logf("one list of %d×%d: %d, body %.1f MiB, allocated %.1f MiB, heap in use grew by %.1f MiB at peak",
		groups, size, code, float64(len(body))/(1<<20), float64(alloc)/(1<<20), float64(grew)/(1<<20))
	if code != 200 {
		t.Fatalf("list: %d %.300s", code, body)
	}
	var page struct {
		TotalResults, ItemsPerPage int
		Resources                  []struct {
			ID      string
			Members *[]struct{ Value string }
		}
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	with := 0
	var omitted string
	for i, g := range page.Resources {
		switch {
		case g.Members == nil:
			omitted = g.ID
		case len(*g.Members) != size:
			t.Fatalf("group %d carries %d of its %d members: a group has all its members or none", i, len(*g.Members), size)
		case omitted != "":
			t.Fatalf("group %d has members after a group without", i)
		default:
			with++
		}
	}
	if page.TotalResults != groups || page.ItemsPerPage != groups || len(page.Resources) != groups {
		t.Fatalf("totalResults %d, itemsPerPage %d, %d resources; want %d", page.TotalResults, page.ItemsPerPage, len(page.Resources), groups)
	}
	if want := min(groups, 10_000/size); with != want {
		t.Fatalf("%d groups listed with members, want %d (10,000 member values per list)", with, want)
	}
	if len(body) > 8<<20 || alloc > 96<<20 || grew > 64<<20 {
		t.Fatalf("one list: body %d bytes (bound 8 MiB), %d bytes allocated (bound 96 MiB), heap grew %d bytes (bound 64 MiB)", len(body), alloc, grew)
	}

	// Six at once, and another org meanwhile.
	runtime.GC()
	runtime.ReadMemStats(&before)
	peak = heapPeak()
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = getCounted(t, list, acme)
		}()
	}
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	if code, b := getCounted(t, base+"/scim/v2/Groups", beta); code != 200 || time.Since(start) > 2*time.Second {
		t.Errorf("another org's list during the burst: %d after %v (%.200s)", code, time.Since(start), b)
	}
	wg.Wait()
	grew = int64(peak()) - int64(before.HeapInuse)
	t.Logf("six lists at once: %v; heap in use grew by %.1f MiB at peak", codes, float64(grew)/(1<<20))
	for _, c := range codes {
		if c != 200 && c != 503 {
			t.Fatalf("concurrent lists answered %v; want 200 or 503", codes)
		}
	}
	if grew > 128<<20 {
		t.Fatalf("six lists at once grew the heap by %d bytes (bound 128 MiB)", grew)
	}

	// A group listed without members comes whole from a GET.
	if omitted != "" {
		code, b := getCounted(t, base+"/scim/v2/Groups/"+omitted, acme)
		var g struct{ Members []struct{ Value string } }
		if code != 200 || json.Unmarshal(b, &g) != nil || len(g.Members) != size {
			t.Fatalf("GET of a group listed without members: %d, %d members; want 200 with %d", code, len(g.Members), size)
		}
	}
	// The cap is declared.
	_, b := getCounted(t, base+"/scim/v2/ServiceProviderConfig", acme)
	var spc map[string]any
	_ = json.Unmarshal(b, &spc)
	if ext, _ := spc["urn:hanzo:params:scim:schemas:extension:kms:2.0:ServiceProviderConfig"].(map[string]any); ext["maxListMembers"] != float64(10_000) {
		t.Fatalf("ServiceProviderConfig does not declare the member cap: %s", b)
	}
}
