package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
)

// emptyStore answers every read with nothing.
type emptyStore struct{}

func (emptyStore) Members(context.Context, string, orgsync.Status) ([]orgsync.Member, error) {
	return nil, nil
}

func (emptyStore) CompleteSetup(context.Context, string, string, string) (orgsync.Member, error) {
	return orgsync.Member{}, orgsync.ErrNotFound
}

func (emptyStore) Runs(context.Context, string, int) ([]orgsync.Run, error) { return nil, nil }

func (emptyStore) Run(context.Context, int64) (orgsync.Run, error) {
	return orgsync.Run{}, orgsync.ErrNotFound
}

func (emptyStore) Events(context.Context, string, int64, int) ([]orgsync.Event, error) {
	return nil, nil
}

func TestAuthorization(t *testing.T) {
	const token = "s3cret-admin-token"
	tests := []struct {
		name, header string
		token        orgsync.Secret
		want         int
	}{
		{"bearer", "Bearer " + token, token, http.StatusOK},
		{"scheme in any case", "bearer " + token, token, http.StatusOK},
		{"scheme upper case, spaces around", "  BEARER   " + token + " ", token, http.StatusOK},
		{"wrong token", "Bearer nope", token, http.StatusUnauthorized},
		{"token as a prefix", "Bearer " + token[:5], token, http.StatusUnauthorized},
		{"other scheme", "Basic " + token, token, http.StatusUnauthorized},
		{"scheme alone", "Bearer", token, http.StatusUnauthorized},
		{"no header", "", token, http.StatusUnauthorized},
		{"no admin token configured", "Bearer ", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := New(emptyStore{}, tt.token, zerolog.Nop(), Options{})
			req := httptest.NewRequest(http.MethodGet, "/api/v1/runs", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("%q: status %d, want %d: %s", tt.header, rec.Code, tt.want, rec.Body)
			}
			if rec.Code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}
