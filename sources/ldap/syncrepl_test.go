package ldap

import (
	"errors"
	"slices"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/google/uuid"
)

// fakeResponse replays sync refresh results as go-ldap hands them out.
type fakeResponse struct {
	items []fakeItem
	err   error
	cur   fakeItem
}

type fakeItem struct {
	entry    *goldap.Entry
	controls []goldap.Control
}

func (f *fakeResponse) Next() bool {
	if len(f.items) == 0 {
		return false
	}
	f.cur, f.items = f.items[0], f.items[1:]
	return true
}
func (f *fakeResponse) Entry() *goldap.Entry       { return f.cur.entry }
func (f *fakeResponse) Referral() string           { return "" }
func (f *fakeResponse) Controls() []goldap.Control { return f.cur.controls }
func (f *fakeResponse) Err() error                 { return f.err }
func uuidOf(n byte) uuid.UUID                      { return uuid.UUID{15: n} }
func idOf(n byte) string                           { return uuidOf(n).String() }
func done(deletes bool, cookie string) fakeItem {
	return fakeItem{controls: []goldap.Control{&goldap.ControlSyncDone{Cookie: []byte(cookie), RefreshDeletes: deletes}}}
}
func idSet(deletes bool, ids ...byte) fakeItem {
	return fakeItem{controls: []goldap.Control{syncIDSet(deletes, ids...)}}
}
func entry(n byte, st goldap.ControlSyncStateState) fakeItem {
	return fakeItem{entry: &goldap.Entry{DN: "uid=x"}, controls: []goldap.Control{&goldap.ControlSyncState{State: st, EntryUUID: uuidOf(n)}}}
}

func syncIDSet(deletes bool, ids ...byte) *goldap.ControlSyncInfo {
	set := &goldap.ControlSyncInfoSyncIdSet{RefreshDeletes: deletes}
	for _, n := range ids {
		set.SyncUUIDs = append(set.SyncUUIDs, uuidOf(n))
	}
	return &goldap.ControlSyncInfo{Value: goldap.SyncInfoSyncIdSet, SyncIdSet: set}
}

// TestCollectRefresh: both phases of RFC 4533 read right — a delete phase
// names what went (syncIdSet refreshDeletes TRUE, delete states), a
// present phase what stayed (present entries and syncIdSets, ended by a
// refreshPresent Sync Info or a Sync Done with refreshDeletes FALSE) —
// and a refresh that cannot be trusted is an error.
func TestCollectRefresh(t *testing.T) {
	stored := []byte{1, 2, 3, 4, 5}
	for _, tc := range []struct {
		name    string
		items   []fakeItem
		err     error
		gone    []byte
		refused bool   // a *refreshRefused
		fails   string // another error
	}{
		{"session log: syncIdSet deletes", []fakeItem{idSet(true, 2, 4), entry(3, goldap.SyncStateAdd), done(true, "c")}, nil, []byte{2, 4}, false, ""},
		{"session log: delete states", []fakeItem{entry(1, goldap.SyncStateDelete), done(true, "c")}, nil, []byte{1}, false, ""},
		{"nothing went", []fakeItem{done(true, "c")}, nil, nil, false, ""},
		{"present phase: entries", []fakeItem{entry(1, goldap.SyncStatePresent), entry(3, goldap.SyncStateAdd), entry(5, goldap.SyncStatePresent), done(false, "c")}, nil, []byte{2, 4}, false, ""},
		{"present phase: syncIdSets", []fakeItem{idSet(false, 1, 2), idSet(false, 5), entry(9, goldap.SyncStateAdd), done(false, "c")}, nil, []byte{3, 4}, false, ""},
		{"present phase, then a delete phase", []fakeItem{idSet(false, 1, 2, 3),
			{controls: []goldap.Control{&goldap.ControlSyncInfo{Value: goldap.SyncInfoRefreshPresent, RefreshPresent: &goldap.ControlSyncInfoRefreshPresent{RefreshDone: false}}}},
			idSet(true, 3), done(true, "c")}, nil, []byte{3, 4, 5}, false, ""},
		{"empty present phase: everything went", []fakeItem{done(false, "c")}, nil, stored, false, ""},
		{"no Sync Done (cut, cancelled)", []fakeItem{idSet(true, 2)}, nil, nil, false, "without its Sync Done"},
		{"an error mid-way", []fakeItem{idSet(true, 2)}, goldap.NewError(goldap.ErrorNetwork, errors.New("closed")), nil, false, "closed"},
		{"no cookie back", []fakeItem{entry(1, goldap.SyncStateAdd), done(true, "")}, nil, nil, true, ""},
		{"an entry without Sync State", []fakeItem{{entry: &goldap.Entry{DN: "uid=x"}}, done(true, "c")}, nil, nil, false, "without its Sync State"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collectRefresh(&fakeResponse{items: tc.items, err: tc.err})
			var refused *refreshRefused
			switch {
			case tc.refused:
				if !errors.As(err, &refused) {
					t.Fatalf("err %v, want a refusal", err)
				}
				return
			case tc.fails != "":
				if err == nil || errors.As(err, &refused) || !strings.Contains(err.Error(), tc.fails) {
					t.Fatalf("err %v, want a failure with %q", err, tc.fails)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			var gone []byte
			for _, n := range stored {
				if got.gone(idOf(n)) {
					gone = append(gone, n)
				}
			}
			if !slices.Equal(gone, tc.gone) {
				t.Fatalf("gone %v, want %v", gone, tc.gone)
			}
			if string(got.cookie) != "c" {
				t.Errorf("cookie %q", got.cookie)
			}
		})
	}
}

// TestAsRefused: what the server refuses falls back to the listing; what
// the client or the network fails is an error.
func TestAsRefused(t *testing.T) {
	for _, tc := range []struct {
		err     error
		refused bool
	}{
		{goldap.NewError(goldap.LDAPResultSyncRefreshRequired, errors.New("")), true},
		{goldap.NewError(goldap.LDAPResultUnavailableCriticalExtension, errors.New("critical control unavailable")), true},
		{goldap.NewError(goldap.LDAPResultUnwillingToPerform, errors.New("consumer state is newer than provider!")), true},
		{goldap.NewError(goldap.ErrorNetwork, errors.New("closed")), false},
		{errors.New("the sync refresh ended without its Sync Done control"), false},
	} {
		var refused *refreshRefused
		if got := errors.As(asRefused(tc.err, "x"), &refused); got != tc.refused {
			t.Errorf("%v: refused %v, want %v", tc.err, got, tc.refused)
		}
	}
}
