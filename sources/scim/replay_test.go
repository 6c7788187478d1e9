package scim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// A recording is what a SCIM server answered, stored under testdata/ as
// JSON: for each request (path below the SCIM base, with its query in
// canonical order, or the path alone to answer any query), the answers in
// the order they were given; the last one repeats.
type recording struct {
	Description string                `json:"description"`
	Responses   map[string][]response `json:"responses"`
}

type response struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	// Body is sent as JSON; Raw, when set, is sent as is (a broken body).
	Body json.RawMessage `json:"body,omitempty"`
	Raw  *string         `json:"raw,omitempty"`
}

const testBase = "/scim/v2"

// replay serves a recording and remembers the requests it got.
type replay struct {
	t    testing.TB
	rec  recording
	srv  *httptest.Server
	mu   sync.Mutex
	got  []string // "path?query" below the base, in order
	auth []string
	used map[string]int
}

func loadRecording(t testing.TB, name string) recording {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec recording
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		t.Fatalf("testdata/%s.json: %v", name, err)
	}
	return rec
}

func newReplay(t testing.TB, rec recording) *replay {
	r := &replay{t: t, rec: rec, used: map[string]int{}}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *replay) url() string { return r.srv.URL + testBase }

func (r *replay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	path := strings.TrimPrefix(req.URL.Path, testBase)
	key := path
	if q := req.URL.Query(); len(q) > 0 {
		key += "?" + q.Encode()
	}
	r.mu.Lock()
	r.got = append(r.got, key)
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	answers, ok := r.rec.Responses[key]
	k := key
	if !ok {
		answers, ok = r.rec.Responses[path]
		k = path
	}
	i := r.used[k]
	r.used[k]++
	r.mu.Unlock()
	if !ok || len(answers) == 0 {
		r.t.Errorf("replay: unexpected request %s", key)
		http.Error(w, "not in the recording", http.StatusNotFound)
		return
	}
	a := answers[min(i, len(answers)-1)]
	for k, v := range a.Headers {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/scim+json")
	}
	w.WriteHeader(a.Status)
	switch {
	case a.Raw != nil:
		_, _ = w.Write([]byte(*a.Raw))
	case a.Body != nil:
		_, _ = w.Write(a.Body)
	}
}

// requests returns the requests received so far.
func (r *replay) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// auths returns the Authorization headers received so far.
func (r *replay) auths() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auth...)
}

// count returns how many requests asked for key.
func (r *replay) count(key string) int {
	n := 0
	for _, k := range r.requests() {
		if k == key {
			n++
		}
	}
	return n
}

// pageKey is the replay key of a list page.
func pageKey(endpoint string, start, count int, filter string) string {
	q := url.Values{}
	q.Set("startIndex", strconv.Itoa(start))
	q.Set("count", strconv.Itoa(count))
	if filter != "" {
		q.Set("filter", filter)
	}
	return "/" + endpoint + "?" + q.Encode()
}
