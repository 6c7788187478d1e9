package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
)

// Each outcome of an approval has its status, and a refusal its reason.
func TestApproveStatuses(t *testing.T) {
	var gotActor string
	var gotAllowEmpty bool
	approve := func(err error) ApproveFunc {
		return func(_ context.Context, id int64, actor string, allowEmpty bool) (orgsync.Run, error) {
			gotActor, gotAllowEmpty = actor, allowEmpty
			if err != nil {
				return orgsync.Run{}, err
			}
			return orgsync.Run{ID: id + 1, Approves: id, Actor: actor, Result: orgsync.RunApplied}, nil
		}
	}
	tests := []struct {
		name   string
		fn     ApproveFunc
		path   string
		body   string
		status int
		want   string
	}{
		{"applied", approve(nil), "/api/v1/runs/7/approve", "", 200, `"approves":7`},
		{"allow_empty passed on", approve(nil), "/api/v1/runs/7/approve", `{"allow_empty": true}`, 200, `"actor":"admin-api"`},
		{"stale", approve(fmt.Errorf("x: %w: the source changed", orgsync.ErrStale)), "/api/v1/runs/7/approve", "", 409, `"reason":"stale"`},
		{"approved already", approve(fmt.Errorf("x: %w", orgsync.ErrConflict)), "/api/v1/runs/7/approve", "", 409, `"reason":"conflict"`},
		{"empty source", approve(fmt.Errorf("x: %w", orgsync.ErrGuard)), "/api/v1/runs/7/approve", "", 409, `"reason":"guard"`},
		{"unknown run", approve(fmt.Errorf("x: %w", orgsync.ErrNotFound)), "/api/v1/runs/7/approve", "", 404, "not found"},
		{"locked", approve(fmt.Errorf("x: %w", orgsync.ErrUnavailable)), "/api/v1/runs/7/approve", "", 503, "unavailable"},
		{"bad id", approve(nil), "/api/v1/runs/x/approve", "", 400, "positive integer"},
		{"bad body", approve(nil), "/api/v1/runs/7/approve", `{"force": true}`, 400, "malformed"},
		{"not wired", nil, "/api/v1/runs/7/approve", "", 501, "serve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := New(emptyStore{}, "tok", zerolog.Nop(), Options{Approve: tt.fn})
			req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer tok")
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("%d %s, want %d with %q", rec.Code, rec.Body, tt.status, tt.want)
			}
		})
	}
	api := New(emptyStore{}, "tok", zerolog.Nop(), Options{Approve: approve(nil)})
	req := httptest.NewRequest(http.MethodPost, "/api/v1/runs/3/approve", strings.NewReader(`{"allow_empty": true}`))
	req.Header.Set("Authorization", "Bearer tok")
	api.ServeHTTP(httptest.NewRecorder(), req)
	if gotActor != "admin-api" || !gotAllowEmpty {
		t.Errorf("approve called with actor %q, allow_empty %v", gotActor, gotAllowEmpty)
	}
}
