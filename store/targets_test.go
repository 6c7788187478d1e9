package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

func TestTargetLinks(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, b.config(t), zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			link := func(kind, local, remote string) orgsync.TargetLink {
				return orgsync.TargetLink{Target: "kms", Org: "acme", Kind: kind, LocalID: local, RemoteID: remote, Name: local + "@x"}
			}
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(st.SaveTargetLinks(ctx, []orgsync.TargetLink{link("member", "m1", "r1"), link("member", "m2", "r2"), link("group", "g1", "r1")}))
			// A re-created membership (new remote id) replaces the old link;
			// a remote id moving to another member replaces that member's.
			must(st.SaveTargetLinks(ctx, []orgsync.TargetLink{link("member", "m1", "r9"), link("member", "m3", "r2")}))
			must(st.SaveTargetLinks(ctx, []orgsync.TargetLink{{Target: "other", Org: "acme", Kind: "member", LocalID: "m1", RemoteID: "r1"}}))
			must(st.DeleteTargetLinks(ctx, "kms", "group", []string{"r1"}))
			got, err := st.TargetLinks(ctx, "kms")
			must(err)
			var pairs []string
			for _, l := range got {
				pairs = append(pairs, l.Kind+":"+l.LocalID+"="+l.RemoteID)
			}
			slices.Sort(pairs)
			if want := []string{"member:m1=r9", "member:m3=r2"}; !slices.Equal(pairs, want) {
				t.Fatalf("links %v, want %v", pairs, want)
			}
			// Runs keep their target.
			id, err := st.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "kms", Target: "kms", StartedAt: time.Now(), FinishedAt: time.Now(), Result: orgsync.RunApplied})
			must(err)
			runs, err := st.Runs(ctx, store.RunFilter{ID: id})
			must(err)
			if len(runs) != 1 || runs[0].Target != "kms" {
				t.Fatalf("run %+v, want target kms", runs)
			}
		})
	}
}
