package ldap

import (
	"context"
	"fmt"
)

// moved reports whether an entry of the stored state (DN to key) is not
// listed under the same DN and key: deleted, renamed or re-created.
func moved(old map[string]string, keys []listed) bool {
	if len(old) > len(keys) {
		return true
	}
	listedKey := make(map[string]string, len(keys))
	for _, k := range keys {
		listedKey[k.dn] = k.id
	}
	for dn, id := range old {
		if got, ok := listedKey[dn]; !ok || got != id {
			return true
		}
	}
	return false
}

func userDNs(us []user) map[string]string {
	out := make(map[string]string, len(us))
	for _, u := range us {
		out[u.dn] = u.id
	}
	return out
}

func groupDNs(gs []group) map[string]string {
	out := make(map[string]string, len(gs))
	for _, g := range gs {
		out[g.dn] = g.id
	}
	return out
}

// mergeUsers returns the users of the listing, in its order: the changed
// entry where there is one, the stored one otherwise. An entry in neither
// is fetched; a stored entry whose key differs from the listing's was
// replaced without the change showing, which only a full read resolves.
func (r *reader) mergeUsers(ctx context.Context, keys []listed, changed map[string]user, old []user) ([]user, int, error) {
	byDN := make(map[string]int, len(old))
	for i := range old {
		byDN[old[i].dn] = i
	}
	out := make([]user, 0, len(keys))
	fetched := 0
	for _, k := range keys {
		if u, ok := changed[k.dn]; ok {
			out = append(out, u)
			continue
		}
		i, ok := byDN[k.dn]
		if ok && old[i].id != k.id {
			return nil, 0, &staleError{reason: fmt.Sprintf("user %q has another key than stored, but no change since the cursor", k.dn)}
		}
		if !ok {
			if fetched++; fetched > maxFetched {
				return nil, 0, &staleError{reason: fmt.Sprintf("more than %d users are in scope without a change since the cursor", maxFetched)}
			}
			got, err := r.collectUsers(ctx, search{key: "user.base_dn", base: k.dn, filter: r.cfg.User.Filter, attrs: r.userAttrs.request()})
			if err != nil {
				return nil, 0, err
			}
			if u, ok := got[k.dn]; ok {
				out = append(out, u)
			}
			continue
		}
		u := old[i]
		_, u.filterOff = r.disabled[u.dn]
		out = append(out, u)
	}
	return out, fetched, nil
}

// mergeGroups is mergeUsers for groups.
func (r *reader) mergeGroups(ctx context.Context, keys []listed, changed map[string]group, old []group) ([]group, int, error) {
	byDN := make(map[string]int, len(old))
	for i := range old {
		byDN[old[i].dn] = i
	}
	out := make([]group, 0, len(keys))
	fetched := 0
	for _, k := range keys {
		if g, ok := changed[k.dn]; ok {
			out = append(out, g)
			continue
		}
		i, ok := byDN[k.dn]
		if ok && old[i].id != k.id {
			return nil, 0, &staleError{reason: fmt.Sprintf("group %q has another key than stored, but no change since the cursor", k.dn)}
		}
		if !ok {
			if fetched++; fetched > maxFetched {
				return nil, 0, &staleError{reason: fmt.Sprintf("more than %d groups are in scope without a change since the cursor", maxFetched)}
			}
			got, err := r.collectGroups(ctx, search{key: "group.base_dn", base: k.dn, filter: r.cfg.Group.Filter, attrs: r.groupAttrs.request()})
			if err != nil {
				return nil, 0, err
			}
			for _, g := range got {
				if g.dn == k.dn {
					out = append(out, g)
				}
			}
			continue
		}
		out = append(out, old[i])
	}
	return out, fetched, nil
}
