package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
)

// server answers /Users pages from total users, with answer deciding the
// status of request n (0: answer normally).
func server(t *testing.T, total int, answer func(n int64, r *http.Request) (int, string)) (*Client, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1)
		if r.Header.Get("Authorization") != "Bearer tok-123" {
			w.WriteHeader(401)
			return
		}
		if code, retry := answer(k, r); code != 0 {
			if retry != "" {
				w.Header().Set("Retry-After", retry)
			}
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"status":%d,"detail":"code %d"}`, code, code)
			return
		}
		if r.Method != "GET" {
			w.WriteHeader(201)
			fmt.Fprint(w, `{"id":"new-1","userName":"x","active":"True"}`)
			return
		}
		start, _ := strconv.Atoi(r.URL.Query().Get("startIndex"))
		count, _ := strconv.Atoi(r.URL.Query().Get("count"))
		var res []map[string]any
		for i := start; i < start+count && i <= total; i++ {
			res = append(res, map[string]any{"id": fmt.Sprint("u", i), "userName": fmt.Sprint("user", i), "active": true})
		}
		json.NewEncoder(w).Encode(map[string]any{"totalResults": total, "startIndex": start, "Resources": res})
	}))
	t.Cleanup(hs.Close)
	return New(Options{BaseURL: hs.URL, Token: "tok-123", PageSize: 10, Retries: 3, MaxRetryWait: 50 * time.Millisecond}), &n
}

func TestClientReads(t *testing.T) {
	tests := []struct {
		name     string
		total    int
		answer   func(n int64, r *http.Request) (int, string)
		want     int
		wantErr  error
		requests int64
	}{
		{"paged", 25, func(int64, *http.Request) (int, string) { return 0, "" }, 25, nil, 3},
		{"empty", 0, func(int64, *http.Request) (int, string) { return 0, "" }, 0, nil, 1},
		{"429 retried after Retry-After", 15, func(n int64, _ *http.Request) (int, string) {
			if n == 1 {
				return 429, "0"
			}
			return 0, ""
		}, 15, nil, 3},
		{"500 on a read retried", 5, func(n int64, _ *http.Request) (int, string) {
			if n == 1 {
				return 500, ""
			}
			return 0, ""
		}, 5, nil, 2},
		{"a failed page fails the read", 25, func(n int64, _ *http.Request) (int, string) {
			if n >= 2 {
				return 500, ""
			}
			return 0, ""
		}, 0, nil, 5},
		{"403 is unauthorized, not retried", 5, func(int64, *http.Request) (int, string) { return 403, "" }, 0, orgsync.ErrUnauthorized, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, n := server(t, tc.total, tc.answer)
			users, err := c.Users(context.Background())
			switch {
			case tc.want == 0 && tc.total > 0:
				if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("Users = %d, %v; want an error (%v)", len(users), err, tc.wantErr)
				}
			case err != nil || len(users) != tc.want:
				t.Fatalf("Users = %d, %v; want %d", len(users), err, tc.want)
			}
			if n.Load() != tc.requests {
				t.Errorf("%d requests, want %d", n.Load(), tc.requests)
			}
		})
	}
}

func TestClientWrites(t *testing.T) {
	t.Run("500 on a write is not sent again", func(t *testing.T) {
		c, n := server(t, 0, func(int64, *http.Request) (int, string) { return 500, "" })
		if _, err := c.CreateUser(context.Background(), User{UserName: "x"}); err == nil || n.Load() != 1 {
			t.Fatalf("CreateUser: %v after %d requests; want an error after 1", err, n.Load())
		}
	})
	t.Run("429 on a write is", func(t *testing.T) {
		c, n := server(t, 0, func(k int64, _ *http.Request) (int, string) {
			if k == 1 {
				return 429, "0"
			}
			return 0, ""
		})
		u, err := c.CreateUser(context.Background(), User{UserName: "x"})
		if err != nil || u.ID != "new-1" || !u.Active || n.Load() != 2 {
			t.Fatalf("CreateUser = %+v, %v after %d requests", u, err, n.Load())
		}
	})
	t.Run("409 is a conflict", func(t *testing.T) {
		c, _ := server(t, 0, func(int64, *http.Request) (int, string) { return 409, "" })
		if _, err := c.CreateUser(context.Background(), User{UserName: "x"}); !errors.Is(err, orgsync.ErrConflict) {
			t.Fatalf("CreateUser: %v, want ErrConflict", err)
		}
	})
	t.Run("404 on delete is done", func(t *testing.T) {
		c, _ := server(t, 0, func(int64, *http.Request) (int, string) { return 404, "" })
		if err := c.DeleteUser(context.Background(), "gone"); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "3": 3 * time.Second, "junk": 0, "-1": 0} {
		if got := retryAfter(in); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestKMSDialectBase(t *testing.T) {
	for in, want := range map[string]string{"https://kms.example.com": "https://kms.example.com/api/v1/scim", "https://kms.example.com/api/v1/scim/": "https://kms.example.com/api/v1/scim"} {
		if got := New(Options{BaseURL: in, Dialect: DialectKMS}).Base(); got != want {
			t.Errorf("Base(%q) = %q, want %q", in, got, want)
		}
	}
}

// The KMS answers totalResults with the page's length and may serve fewer
// than asked: the kms-scim dialect reads on to an empty page.
func TestKMSPagingIgnoresTotalResults(t *testing.T) {
	var n atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		start, _ := strconv.Atoi(r.URL.Query().Get("startIndex"))
		var res []map[string]any
		for i := start; i < start+7 && i <= 25; i++ { // serves 7 whatever the count
			res = append(res, map[string]any{"id": fmt.Sprint("m", i), "userName": fmt.Sprint("user", i), "active": true})
		}
		json.NewEncoder(w).Encode(map[string]any{"totalResults": len(res), "startIndex": start, "Resources": res})
	}))
	defer hs.Close()
	for _, tc := range []struct {
		dialect string
		want    int
	}{{DialectKMS, 25}, {DialectSCIM, 7}} {
		n.Store(0)
		c := New(Options{BaseURL: hs.URL + KMSPath, Token: "t", Dialect: tc.dialect, PageSize: 10})
		users, err := c.Users(context.Background())
		if err != nil || len(users) != tc.want {
			t.Fatalf("%s: %d users, %v; want %d", tc.dialect, len(users), err, tc.want)
		}
		if tc.dialect == DialectKMS && n.Load() != 5 {
			t.Errorf("%d requests, want 5 (4 pages and the empty one)", n.Load())
		}
	}
}
