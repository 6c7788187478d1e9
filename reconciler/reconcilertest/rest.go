package reconcilertest

import (
	"slices"

	"github.com/orgsync/orgsync"
)

// Partial splits whole as a source asked for a part does
// (reconciler.ReadRequest.Part): the Snapshot without its members, and an
// orgsync.Rest that gives them by key. Asked records every key asked for.
func Partial(whole orgsync.Snapshot) (orgsync.Snapshot, *Rest) {
	part := whole
	part.Members = nil
	return part, &Rest{whole: whole}
}

// Rest is an orgsync.Rest over a whole Snapshot held in memory.
type Rest struct {
	whole  orgsync.Snapshot
	Asked  []string
	Wholes int // calls of Whole
	// ByPlaces: GroupsOf restricts the groups (orgsync.RestGroups);
	// GroupsAsked counts its calls.
	ByPlaces    bool
	GroupsAsked int
}

// Members returns the members under keys, in the Snapshot's order.
func (r *Rest) Members(keys []string) ([]orgsync.Member, []int) {
	r.Asked = append(r.Asked, keys...)
	var out []orgsync.Member
	var places []int
	for i := range r.whole.Members {
		if slices.Contains(keys, r.whole.Members[i].ExternalID) {
			out = append(out, r.whole.Members[i])
			places = append(places, i)
		}
	}
	return out, places
}

// Counts counts the members and the deprovisioned ones.
func (r *Rest) Counts() (members, disabled int) {
	for i := range r.whole.Members {
		if r.whole.Members[i].Status == orgsync.StatusDeprovisioned {
			disabled++
		}
	}
	return len(r.whole.Members), disabled
}

// Whole returns the whole Snapshot.
func (r *Rest) Whole() (orgsync.Snapshot, error) {
	r.Wholes++
	return r.whole, nil
}

var _ orgsync.RestGroups = (*Rest)(nil)

// GroupsOf restricts the groups by the members' places when ByPlaces is
// set (counted in GroupsAsked); otherwise it says it cannot.
func (r *Rest) GroupsOf(places []int) ([]orgsync.Group, bool) {
	if !r.ByPlaces {
		return nil, false
	}
	r.GroupsAsked++
	keys := map[string]bool{}
	for _, p := range places {
		keys[r.whole.Members[p].ExternalID] = true
	}
	out := make([]orgsync.Group, len(r.whole.Groups))
	for i, g := range r.whole.Groups {
		out[i] = g
		out[i].Members = nil
		for _, k := range g.Members {
			if keys[k] {
				out[i].Members = append(out[i].Members, k)
			}
		}
	}
	return out, true
}
