package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/receiver"
	"github.com/orgsync/orgsync/store"
	"github.com/orgsync/orgsync/store/storetest"
)

// The SQL store as its consumers see it: the admin API reads it through
// store.AdminView (as serve does), everything else is the Store's own.
var (
	_ storetest.Store         = store.AdminView{}
	_ storetest.OperatorStore = store.AdminView{}
)

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			storetest.Run(t, storetest.Backend{
				Open: func(t *testing.T) storetest.Store {
					s, err := store.Open(context.Background(), b.config(t), zerolog.Nop())
					if err != nil {
						t.Fatalf("Open: %v", err)
					}
					t.Cleanup(func() { s.Close() })
					if err := s.EnsureOrgs(context.Background(), []orgsync.Org{
						{ID: "acme", Name: "Acme", DefaultRole: orgsync.RoleMember, PurgeAfter: 720 * time.Hour},
						{ID: "other", Name: "Other", DefaultRole: "viewer", PurgeAfter: time.Hour},
					}); err != nil {
						t.Fatalf("EnsureOrgs: %v", err)
					}
					return store.AdminView{Store: s}
				},
				Has:  []storetest.Capability{storetest.SCIM, storetest.Admin, storetest.Claims, storetest.Operator},
				SCIM: func(s storetest.Store) receiver.OwnerView { return s.(store.AdminView).SCIM() },
			})
		})
	}
}
