package scim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// TestRedirectKeepsTokenToItsOrigin: a redirect to another origin (here
// another port of the same loopback host, which Go's client treats as the
// same host) is followed without the bearer token; a redirect within the
// origin keeps it.
func TestRedirectKeepsTokenToItsOrigin(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{} // server → Authorization it got on /target
	record := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[name] = r.Header.Get("Authorization")
			mu.Unlock()
			w.Write([]byte("ok"))
		}
	}
	other := httptest.NewServer(record("other"))
	defer other.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/target", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/here", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/target", http.StatusFound)
	})
	mux.HandleFunc("/target", record("same"))
	origin := httptest.NewServer(mux)
	defer origin.Close()

	s, _ := newTestSource(t, origin.URL, nil)
	for _, path := range []string{"/away", "/here"} {
		u, _ := url.Parse(origin.URL + path)
		if _, err := s.get(context.Background(), u); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	if got := seen["other"]; got != "" {
		t.Fatalf("the server redirected to (another port) got Authorization %q; want none", got)
	}
	if got := seen["same"]; got != "Bearer "+testToken {
		t.Fatalf("a redirect within the origin got Authorization %q; want the token", got)
	}
}

func TestSameOrigin(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"https://idp.example.com/scim", "https://IDP.example.com:443/v2", true},
		{"http://127.0.0.1:8080/a", "http://127.0.0.1:9090/a", false},
		{"https://idp.example.com/a", "http://idp.example.com/a", false},
		{"https://idp.example.com/a", "https://evil.example.com/a", false},
	} {
		a, _ := url.Parse(tt.a)
		b, _ := url.Parse(tt.b)
		if got := sameOrigin(a, b); got != tt.want {
			t.Errorf("sameOrigin(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
