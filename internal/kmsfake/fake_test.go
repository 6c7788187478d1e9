package kmsfake

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/targets/kmsadmin"
	"github.com/orgsync/orgsync/targets/scim"
)

func client(s *Server) *scim.Client {
	return scim.New(scim.Options{BaseURL: s.URL, Token: "tok", Dialect: scim.DialectKMS})
}

// The emulator must show the KMS's behaviours the target guards against:
// if these pass trivially the target's tests prove nothing.
func TestEmulatorBehaviours(t *testing.T) {
	ctx := context.Background()
	t.Run("concurrent group PATCHes lose updates", func(t *testing.T) {
		s := New(Options{Token: "tok", PatchDelay: 30 * time.Millisecond})
		defer s.Close()
		c := client(s)
		g, _ := c.CreateGroup(ctx, "team", nil)
		var wg sync.WaitGroup
		for i := range 5 {
			u, err := c.CreateUser(ctx, scim.User{UserName: fmt.Sprint("u", i), Email: fmt.Sprint("u", i, "@x"), Active: true})
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() { defer wg.Done(); c.PatchGroup(ctx, g.ID, "", []scim.Ref{{Value: u.ID}}, nil) }()
		}
		wg.Wait()
		if n := len(s.Groups()[0].Members); n >= 5 {
			t.Fatalf("%d of 5 concurrent adds kept: the last write should have won", n)
		}
	})
	t.Run("invited members are pending until they accept", func(t *testing.T) {
		s := New(Options{Token: "tok"})
		defer s.Close()
		c := client(s)
		u, _ := c.CreateUser(ctx, scim.User{UserName: "ada", Email: "ada@x", Active: true})
		g, _ := c.CreateGroup(ctx, "team", []scim.Ref{{Value: u.ID}})
		if !s.Groups()[0].Members[u.ID] || s.Invites() != 1 {
			t.Fatal("a new member is not pending, or no invitation was counted")
		}
		s.Accept("ada")
		if s.Groups()[0].Members[u.ID] || s.Users()[0].Status != "accepted" || g.ID == "" {
			t.Fatal("accepting did not convert the pending membership")
		}
		got, _ := c.Users(ctx)
		if len(got) != 1 || got[0].ID != u.ID {
			t.Fatalf("SCIM ids are not the membership ids: %+v", got)
		}
	})
	t.Run("a create of an existing userName answers with it and invites again", func(t *testing.T) {
		s := New(Options{Token: "tok"})
		defer s.Close()
		c := client(s)
		first, _ := c.CreateUser(ctx, scim.User{UserName: "ada", Email: "ada@x", GivenName: "Ada", Active: true})
		again, err := c.CreateUser(ctx, scim.User{UserName: "ADA", Email: "other@x", GivenName: "Changed", Active: true})
		if err != nil || again.ID != first.ID || again.GivenName != "Ada" || len(s.Users()) != 1 || s.Invites() != 2 || s.Conflicts() != 1 {
			t.Fatalf("second create = %+v, %v; %d users, %d invites", again, err, len(s.Users()), s.Invites())
		}
		if _, err := c.CreateUser(ctx, scim.User{UserName: "bo", Active: true}); err == nil {
			t.Fatal("a create without email was accepted")
		}
	})
	t.Run("no SSO is a 400", func(t *testing.T) {
		s := New(Options{Token: "tok", NoSSO: true})
		defer s.Close()
		var se *scim.StatusError
		if _, err := client(s).Users(ctx); !errors.As(err, &se) || se.Status != 400 {
			t.Fatalf("Users: %v, want a 400", err)
		}
	})
	t.Run("admin login", func(t *testing.T) {
		s := New(Options{Token: "tok", ClientID: "id", ClientSecret: "secret"})
		defer s.Close()
		bad := &kmsadmin.Client{URL: s.URL, ClientID: "id", ClientSecret: "wrong"}
		if _, err := bad.Memberships(ctx); !errors.Is(err, orgsync.ErrUnauthorized) {
			t.Fatalf("bad secret: %v, want ErrUnauthorized", err)
		}
		s.AddUnmanaged("owner")
		good := &kmsadmin.Client{URL: s.URL, ClientID: "id", ClientSecret: "secret"}
		ms, err := good.Memberships(ctx)
		if err != nil || len(ms) != 1 {
			t.Fatalf("Memberships = %v, %v", ms, err)
		}
	})
	t.Run("rate limit answers 429 with Retry-After", func(t *testing.T) {
		s := New(Options{Token: "tok", RateLimit: 2})
		defer s.Close()
		c := scim.New(scim.Options{BaseURL: s.URL, Token: "tok", Dialect: scim.DialectKMS, Retries: 1, MaxRetryWait: time.Millisecond})
		var limited bool
		for range 6 {
			if _, err := c.Users(ctx); errors.Is(err, orgsync.ErrUnavailable) {
				limited = true
			}
		}
		if !limited {
			t.Fatal("no 429 past the rate limit")
		}
	})
}
