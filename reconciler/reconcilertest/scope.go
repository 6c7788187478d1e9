package reconcilertest

import (
	"reflect"
	"slices"

	"github.com/orgsync/orgsync"
)

// ScopeBetween is the true difference of two Snapshots: the sorted keys of
// the users and groups that differ between prev and next, or appear in
// one only. An incremental read's Scope must cover it; with it the
// reconciler's scoped plan is the full plan.
func ScopeBetween(prev, next orgsync.Snapshot) *orgsync.Scope {
	return &orgsync.Scope{
		Users:  changedKeys(prev.Members, next.Members, func(m *orgsync.Member) string { return m.ExternalID }),
		Groups: changedKeys(prev.Groups, next.Groups, func(g *orgsync.Group) string { return g.ExternalID }),
	}
}

func changedKeys[T any](prev, next []T, key func(*T) string) []string {
	pair := map[string][2]*T{}
	for i := range prev {
		pair[key(&prev[i])] = [2]*T{&prev[i], nil}
	}
	for i := range next {
		p := pair[key(&next[i])]
		p[1] = &next[i]
		pair[key(&next[i])] = p
	}
	var keys []string
	for k, p := range pair {
		if p[0] == nil || p[1] == nil || !reflect.DeepEqual(*p[0], *p[1]) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
