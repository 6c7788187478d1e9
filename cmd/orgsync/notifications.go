package main

import (
	"context"
	"fmt"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/buildinfo"
	"github.com/orgsync/orgsync/notify"
	"github.com/orgsync/orgsync/reconciler"
)

// notifyCloseTimeout bounds how long a command waits, as it exits, for
// notifications still being delivered.
const notifyCloseTimeout = 15 * time.Second

func validateNotifications(hooks []notify.Config, orgs map[string]bool) []error {
	var errs []error
	names := map[string]bool{}
	for i, h := range hooks {
		p := fmt.Sprintf("notifications[%d]: ", i)
		if h.Name != "" {
			p = fmt.Sprintf("notifications[%d] (%s): ", i, h.Name)
		}
		if err := h.Validate(); err != nil {
			for _, e := range flatten(err) {
				errs = append(errs, fmt.Errorf("%s%s", p, e))
			}
		}
		if h.Name != "" && names[h.Name] {
			errs = append(errs, fmt.Errorf("%sname: %q is used twice: %w", p, h.Name, orgsync.ErrInvalid))
		}
		names[h.Name] = true
		for _, o := range h.Orgs {
			if !orgs[o] {
				errs = append(errs, fmt.Errorf("%sorgs: %q is not one of the orgs: %w", p, o, orgsync.ErrInvalid))
			}
		}
	}
	return errs
}

// runStore is the store runs record into: with webhooks configured, each
// recorded run that needs attention is also sent to them (see notify).
func (a *app) runStore(ctx context.Context, st reconciler.Store) (reconciler.Store, error) {
	if len(a.cfg.Notifications) == 0 {
		return st, nil
	}
	if a.notifier == nil {
		if err := a.cfg.requireSecrets("notifications"); err != nil {
			return nil, err
		}
		n, err := notify.Open(a.cfg.Notifications, a.log)
		if err != nil {
			return nil, err
		}
		n.UserAgent = "orgsync/" + buildinfo.Get().Version
		// Deliveries outlive the command's context by notifyCloseTimeout
		// (see run), so a run recorded as the command ends is still sent.
		n.Start(context.WithoutCancel(ctx))
		a.notifier = n
	}
	return notifyingStore{Store: st, n: a.notifier}, nil
}

// notifyingStore tells its notifier of every run it records.
type notifyingStore struct {
	reconciler.Store
	n *notify.Notifier
}

func (s notifyingStore) RecordRun(ctx context.Context, r orgsync.Run) (int64, error) {
	id, err := s.Store.RecordRun(ctx, r)
	if err == nil {
		r.ID = id
	}
	s.n.Notify(r)
	return id, err
}

// Cursor and ApplyCursor pass through to the store when it keeps cursors.
func (s notifyingStore) Cursor(ctx context.Context, org, source, held string) (orgsync.Cursor, error) {
	cs, ok := s.Store.(reconciler.CursorStore)
	if !ok {
		return orgsync.Cursor{Org: org, Source: source}, nil
	}
	return cs.Cursor(ctx, org, source, held)
}

func (s notifyingStore) ApplyCursor(ctx context.Context, p orgsync.Plan, c orgsync.Cursor) (orgsync.Applied, error) {
	cs, ok := s.Store.(reconciler.CursorStore)
	if !ok {
		return s.Store.Apply(ctx, p)
	}
	return cs.ApplyCursor(ctx, p, c)
}

func (s notifyingStore) StoreSeq(ctx context.Context) (int64, error) {
	cs, ok := s.Store.(reconciler.CursorStore)
	if !ok {
		return 0, fmt.Errorf("the store keeps no cursors")
	}
	return cs.StoreSeq(ctx)
}
