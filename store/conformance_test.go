package store_test

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync/store"
	"github.com/orgsync/orgsync/store/storetest"
)

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) *store.Store {
				s, err := store.Open(context.Background(), b.config(t), zerolog.Nop())
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				return s
			})
		})
	}
}
