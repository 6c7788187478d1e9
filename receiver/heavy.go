package receiver

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Group reads with members are the heavy requests of the receiver: one
// list of large groups built a body of tens of MiB, and a few at once took
// the daemon's memory to gigabytes. They are bounded three ways:
//   - members per response: a list carries the members of its leading
//     groups while they fit MaxListMembers; the groups after are listed
//     without "members" (and without the KMS extension derived from
//     them), as Entra and Okta tolerate: they read a group's members with a
//     GET of that group. A GET of one group carries up to MaxGroupMembers.
//     Members are never cut short: a group has all of them or none.
//   - memory: responses are encoded as a stream, one group at a time.
//   - concurrency: each org has HeavyPerOrg slots; a heavy request waits at
//     most HeavyWait for one, then is answered 503 with Retry-After. One
//     org's burst waits for its own slots only, never another org's.

// heavySlots hands out the per-org slots of heavy requests.
type heavySlots struct {
	per  int
	wait time.Duration
	mu   sync.Mutex
	orgs map[string]chan struct{}
}

func newHeavySlots(per int, wait time.Duration) *heavySlots {
	return &heavySlots{per: per, wait: wait, orgs: map[string]chan struct{}{}}
}

// acquire takes a slot of org; release must be called once when ok.
func (h *heavySlots) acquire(ctx context.Context, org string) (release func(), err error) {
	h.mu.Lock()
	ch := h.orgs[org]
	if ch == nil {
		ch = make(chan struct{}, h.per)
		h.orgs[org] = ch
	}
	h.mu.Unlock()
	release = func() { <-ch }
	select {
	case ch <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case ch <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, errBusy
	}
}

// errBusy answers a heavy request that found no free slot.
var errBusy = &scimError{status: http.StatusServiceUnavailable,
	detail: "too many group reads with members of this organisation at once; retry later, or read with excludedAttributes=members"}

// retryAfterHeavy is the Retry-After (seconds) of errBusy.
const retryAfterHeavy = "2"

// listStream writes a SCIM ListResponse one resource at a time, so that a
// long list is never a whole body in memory. The keys come in the order
// encoding/json gives a map's, so the bytes are those of a buffered
// response.
type listStream struct {
	w    http.ResponseWriter
	n    int
	tail string
	fail error
}

func startList(w http.ResponseWriter, total, items, start int) *listStream {
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(http.StatusOK)
	ls := &listStream{w: w}
	ls.raw(`{"Resources":[`)
	// itemsPerPage and the rest follow the resources: they are known now,
	// but encoding/json orders "Resources" first.
	ls.tail = `],"itemsPerPage":` + strconv.Itoa(items) + `,"schemas":["` + schemaList + `"],"startIndex":` +
		strconv.Itoa(start) + `,"totalResults":` + strconv.Itoa(total) + `}`
	return ls
}

func (ls *listStream) raw(s string) {
	if ls.fail == nil {
		_, ls.fail = ls.w.Write([]byte(s))
	}
}

// add writes one resource.
func (ls *listStream) add(res map[string]any) error {
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if ls.n > 0 {
		b = append([]byte{','}, b...)
	}
	ls.n++
	if ls.fail == nil {
		_, ls.fail = ls.w.Write(b)
	}
	return ls.fail
}

// end closes the document.
func (ls *listStream) end() error {
	ls.raw(ls.tail)
	return ls.fail
}
