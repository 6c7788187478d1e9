package orgsync

// Flatten resolves nested groups: for every group of groups (keyed by
// ExternalID) it returns the set of member keys that belong to it directly
// or through any chain of Subgroups. Cycles are harmless: every group in a
// cycle ends up with the members of the whole cycle. Unknown subgroup keys
// are ignored. The input is not modified.
func Flatten(groups []Group) map[string]map[string]struct{} {
	byKey := make(map[string]*Group, len(groups))
	for i := range groups {
		byKey[groups[i].ExternalID] = &groups[i]
	}
	out := make(map[string]map[string]struct{}, len(groups))
	for key := range byKey {
		members := map[string]struct{}{}
		seen := map[string]bool{key: true}
		stack := []string{key}
		for len(stack) > 0 {
			g := byKey[stack[len(stack)-1]]
			stack = stack[:len(stack)-1]
			for _, m := range g.Members {
				members[m] = struct{}{}
			}
			for _, sub := range g.Subgroups {
				if !seen[sub] && byKey[sub] != nil {
					seen[sub] = true
					stack = append(stack, sub)
				}
			}
		}
		out[key] = members
	}
	return out
}
