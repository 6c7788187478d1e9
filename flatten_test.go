package orgsync

import (
	"reflect"
	"sort"
	"testing"
)

func TestFlatten(t *testing.T) {
	tests := []struct {
		name   string
		groups []Group
		want   map[string][]string
	}{
		{
			name:   "direct only",
			groups: []Group{{ExternalID: "a", Members: []string{"u1", "u2"}}},
			want:   map[string][]string{"a": {"u1", "u2"}},
		},
		{
			name: "chain",
			groups: []Group{
				{ExternalID: "a", Members: []string{"u1"}, Subgroups: []string{"b"}},
				{ExternalID: "b", Members: []string{"u2"}, Subgroups: []string{"c"}},
				{ExternalID: "c", Members: []string{"u3"}},
			},
			want: map[string][]string{"a": {"u1", "u2", "u3"}, "b": {"u2", "u3"}, "c": {"u3"}},
		},
		{
			name: "cycle",
			groups: []Group{
				{ExternalID: "a", Members: []string{"u1"}, Subgroups: []string{"b"}},
				{ExternalID: "b", Members: []string{"u2"}, Subgroups: []string{"a"}},
			},
			want: map[string][]string{"a": {"u1", "u2"}, "b": {"u1", "u2"}},
		},
		{
			name:   "unknown subgroup ignored",
			groups: []Group{{ExternalID: "a", Members: []string{"u1"}, Subgroups: []string{"zz"}}},
			want:   map[string][]string{"a": {"u1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string][]string{}
			for k, set := range Flatten(tt.groups) {
				l := []string{}
				for m := range set {
					l = append(l, m)
				}
				sort.Strings(l)
				got[k] = l
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Flatten = %v, want %v", got, tt.want)
			}
		})
	}
}
