package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

func testTokens(t *testing.T, s *store.Store) {
	tok, rec, err := s.CreateToken(ctx, "acme", "jumpcloud", 0)
	if err != nil || len(tok) < 40 || rec.Org != "acme" {
		t.Fatalf("CreateToken = %q, %+v, %v", tok, rec, err)
	}
	if _, _, err := s.CreateToken(ctx, "nope", "", 0); !errors.Is(err, orgsync.ErrNotFound) {
		t.Fatalf("token for unknown org: %v", err)
	}
	got, err := s.Authenticate(ctx, tok)
	if err != nil || got.ID != rec.ID || got.Org != "acme" || got.LastUsedAt == nil {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "Bearer " + tok, tok + "x", tok[:len(tok)-1], "osk_" + string(make([]byte, 300))} {
		if _, err := s.Authenticate(ctx, bad); !errors.Is(err, orgsync.ErrUnauthorized) {
			t.Errorf("Authenticate(%.12q) = %v, want ErrUnauthorized", bad, err)
		}
	}
	// Only a hash is stored.
	var rows []map[string]any
	if err := s.DB().Raw(`SELECT * FROM scim_tokens`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		for col, v := range r {
			if str, ok := v.(string); ok && str == tok {
				t.Fatalf("column %s holds the token in clear", col)
			}
		}
	}
	short, _, _ := s.CreateToken(ctx, "acme", "short", time.Minute)
	now := s.Now
	s.Now = func() time.Time { return now().Add(2 * time.Minute) }
	if _, err := s.Authenticate(ctx, short); !errors.Is(err, orgsync.ErrUnauthorized) {
		t.Fatalf("expired token: %v", err)
	}
	s.Now = now
	if _, err := s.RevokeToken(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, orgsync.ErrUnauthorized) {
		t.Fatalf("revoked token: %v", err)
	}
	if _, err := s.RevokeToken(ctx, "nope"); !errors.Is(err, orgsync.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	list, err := s.Tokens(ctx, "acme")
	if err != nil || len(list) != 2 || list[0].RevokedAt == nil {
		t.Fatalf("Tokens = %+v, %v", list, err)
	}
}

func testEvents(t *testing.T, s *store.Store) {
	for i := 0; i < 5; i++ {
		k := string(rune('a' + i))
		mustApply(t, s, provision("ldap", user(k, k+"@example.org")))
	}
	all, err := s.Events(ctx, "acme", 0, 100)
	if err != nil || len(all) != 5 {
		t.Fatalf("events = %d, %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("events out of order: %d then %d", all[i-1].Seq, all[i].Seq)
		}
	}
	rest, err := s.Events(ctx, "acme", all[2].Seq, 100)
	if err != nil || len(rest) != 2 || rest[0].Seq != all[3].Seq {
		t.Fatalf("events after %d = %+v", all[2].Seq, rest)
	}
	if other, _ := s.Events(ctx, "other", 0, 100); len(other) != 0 {
		t.Fatalf("org filter leaked %d events", len(other))
	}
	// The after state is the member as the feed needs it, without the
	// bookkeeping timestamps (the event's time is the change's).
	var after map[string]any
	if err := json.Unmarshal(all[0].After, &after); err != nil {
		t.Fatalf("created event after state %q: %v", all[0].After, err)
	}
	if after["user_name"] != "a@example.org" || after["status"] != string(orgsync.StatusPendingSetup) || after["owner"] != "ldap" ||
		all[0].MemberID == "" || after["id"] != all[0].MemberID || after["org"] != "acme" {
		t.Fatalf("created event of member %q: after %s", all[0].MemberID, all[0].After)
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if _, ok := after[k]; ok {
			t.Fatalf("created event after state repeats %q: %s", k, all[0].After)
		}
	}
}

func testRuns(t *testing.T, s *store.Store) {
	start := time.Now().UTC().Truncate(time.Millisecond)
	plan := provision("ldap", user("k1", "alice@example.org"))
	id, err := s.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "ldap", StartedAt: start, FinishedAt: start.Add(time.Second),
		Result: orgsync.RunBlocked, Guard: orgsync.Decision{Blocked: true, Reason: "too many"}, Summary: plan.Summary(), Plan: &plan})
	if err != nil || id == 0 {
		t.Fatalf("RecordRun = %d, %v", id, err)
	}
	id2, _ := s.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "other", StartedAt: start, FinishedAt: start, Result: orgsync.RunFailed, Error: "boom"})
	runs, err := s.Runs(ctx, store.RunFilter{WithPlan: true})
	if err != nil || len(runs) != 2 || runs[0].ID != id2 || runs[1].ID != id {
		t.Fatalf("Runs = %+v, %v", runs, err)
	}
	r := runs[1]
	if !r.Guard.Blocked || r.Guard.Reason != "too many" || r.Result != orgsync.RunBlocked || r.Summary[orgsync.ActionProvision] != 1 ||
		r.Plan == nil || len(r.Plan.Changes) != 1 || r.Duration() != time.Second {
		t.Fatalf("run = %+v", r)
	}
	if only, _ := s.Runs(ctx, store.RunFilter{Source: "other"}); len(only) != 1 || only[0].Error != "boom" {
		t.Fatalf("source filter: %+v", only)
	}
	huge := orgsync.Plan{Org: "acme", Owner: "ldap"}
	for i := 0; i < 10050; i++ {
		huge.Changes = append(huge.Changes, orgsync.Change{Action: orgsync.ActionDeprovision, MemberID: fmt.Sprint(i)})
	}
	s.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "big", StartedAt: start, FinishedAt: start, Result: orgsync.RunApplied, Summary: huge.Summary(), Plan: &huge})
	big, _ := s.Runs(ctx, store.RunFilter{Source: "big", WithPlan: true})
	if len(big) != 1 || len(big[0].Plan.Changes) != 10000 || len(big[0].Plan.Warnings) != 1 || big[0].Summary[orgsync.ActionDeprovision] != 10050 {
		t.Fatalf("recorded huge plan: %d changes, warnings %v", len(big[0].Plan.Changes), big[0].Plan.Warnings)
	}
}

func testTryLock(t *testing.T, s *store.Store) {
	release, ok, err := s.TryLock(ctx, "source/corp")
	if err != nil || !ok {
		t.Fatalf("first TryLock = %v, %v", ok, err)
	}
	if _, ok2, err := s.TryLock(ctx, "source/corp"); err != nil || ok2 {
		t.Fatalf("second TryLock while held = %v, %v", ok2, err)
	}
	if r, ok3, err := s.TryLock(ctx, "source/other"); err != nil || !ok3 {
		t.Fatalf("other key = %v, %v", ok3, err)
	} else {
		r()
	}
	release()
	r, ok4, err := s.TryLock(ctx, "source/corp")
	if err != nil || !ok4 {
		t.Fatalf("TryLock after release = %v, %v", ok4, err)
	}
	r()
}
