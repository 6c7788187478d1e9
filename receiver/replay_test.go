package receiver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/receiver"
)

// A replay file (testdata/<idp>/<name>.json) is a request sequence an IdP
// sends, re-created from its documentation or recorded traffic, with what
// each answer and the store afterwards must hold.
type replayFile struct {
	Description string `json:"description"`
	// SeedPull provisions members owned by a pull source before the steps.
	SeedPull []struct {
		UserName string `json:"user_name"`
		Owner    string `json:"owner"`
	} `json:"seed_pull"`
	Steps []step `json:"steps"`
	// Store is what org acme must hold afterwards: members by user name
	// (only the fields given are compared; "absent": true for none) and
	// groups by display name with their members' user names.
	Store struct {
		Members map[string]json.RawMessage `json:"members"`
		Groups  map[string][]string        `json:"groups"`
		// Exact: no other members or groups exist.
		Exact bool `json:"exact"`
	} `json:"store"`
}

type step struct {
	Name    string            `json:"name"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
	// Action runs a store operation instead of a request: "complete_setup"
	// of User (an id or user name), as the KMS reports it.
	Action string `json:"action"`
	User   string `json:"user"`
	Expect struct {
		Status int `json:"status"`
		// JSON maps "/"-separated paths of the answer to values;
		// "<present>" and "<absent>" test existence only.
		JSON    map[string]any    `json:"json"`
		Headers map[string]string `json:"headers"` // value is a regexp
		// Contains are substrings of the raw body.
		Contains []string `json:"contains"`
		Absent   []string `json:"absent"` // substrings the raw body must not hold
	} `json:"expect"`
	// Capture stores answer values in variables for later steps (${name}).
	Capture map[string]string `json:"capture"`
}

var varRef = regexp.MustCompile(`\$\{(\w+)\}`)

func expand(s string, vars map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

func TestReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/*/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no replay files: %v", err)
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, file := range files {
				name := strings.TrimSuffix(filepath.ToSlash(strings.TrimPrefix(file, "testdata/")), ".json")
				t.Run(name, func(t *testing.T) {
					cfg, _ := b.cfg(t)
					replay(t, newEnv(t, cfg, receiver.Options{}), file)
				})
			}
		})
	}
}

func replay(t *testing.T, e *env, file string) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rf replayFile
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, p := range rf.SeedPull {
		plan := orgsync.Plan{Org: "acme", Owner: p.Owner, Changes: []orgsync.Change{{Action: orgsync.ActionProvision, UserName: p.UserName,
			MemberKey: "key-" + p.UserName, Member: &orgsync.Member{UserName: p.UserName, ExternalID: "key-" + p.UserName}}}}
		if _, err := e.st.Apply(context.Background(), plan); err != nil {
			t.Fatal(err)
		}
	}
	vars := map[string]string{"token": e.token, "other_token": e.other, "base": e.base}
	for i, s := range rf.Steps {
		label := fmt.Sprintf("step %d (%s)", i+1, s.Name)
		if s.Action == "complete_setup" {
			if _, err := e.st.CompleteSetup(context.Background(), "acme", expand(s.User, vars), "kms"); err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			continue
		}
		headers := map[string]string{}
		for k, v := range s.Headers {
			headers[k] = expand(v, vars)
		}
		var body []byte
		if len(s.Body) > 0 {
			body = []byte(expand(string(s.Body), vars))
		}
		resp := e.do(s.Method, expand(s.Path, vars), headers, body)
		if resp.status != s.Expect.Status {
			t.Fatalf("%s: %s %s = %d, want %d\n%s", label, s.Method, s.Path, resp.status, s.Expect.Status, resp.raw)
		}
		if len(resp.raw) > 0 && resp.status != 304 {
			if ct := resp.header.Get("Content-Type"); ct != "application/scim+json" {
				t.Errorf("%s: Content-Type %q", label, ct)
			}
			if resp.status >= 400 {
				if st, _ := lookup(resp.body, "status"); st != fmt.Sprint(resp.status) {
					t.Errorf("%s: error status %v is not the string %q", label, st, fmt.Sprint(resp.status))
				}
			}
		}
		for path, want := range s.Expect.JSON {
			path = expand(path, vars)
			got, ok := lookup(resp.body, path)
			switch want {
			case "<present>":
				if !ok {
					t.Errorf("%s: %s missing in %s", label, path, resp.raw)
				}
				continue
			case "<absent>":
				if ok {
					t.Errorf("%s: %s = %v, want absent", label, path, got)
				}
				continue
			}
			if ws, isStr := want.(string); isStr {
				want = expand(ws, vars)
			}
			if !ok || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %s = %#v, want %#v\n%s", label, path, got, want, resp.raw)
			}
		}
		for h, re := range s.Expect.Headers {
			if got := resp.header.Get(h); !regexp.MustCompile(expand(re, vars)).MatchString(got) {
				t.Errorf("%s: header %s = %q, want /%s/", label, h, got, re)
			}
		}
		for _, sub := range s.Expect.Contains {
			if !strings.Contains(string(resp.raw), expand(sub, vars)) {
				t.Errorf("%s: body lacks %q:\n%s", label, sub, resp.raw)
			}
		}
		for _, sub := range s.Expect.Absent {
			if strings.Contains(strings.ToLower(string(resp.raw)), strings.ToLower(expand(sub, vars))) {
				t.Errorf("%s: body holds %q:\n%s", label, sub, resp.raw)
			}
		}
		for name, path := range s.Capture {
			v, ok := lookup(resp.body, path)
			if !ok {
				t.Fatalf("%s: capture %s: %s missing in %s", label, name, path, resp.raw)
			}
			vars[name] = fmt.Sprint(v)
		}
	}
	checkStore(t, e, rf, vars)
}

func checkStore(t *testing.T, e *env, rf replayFile, vars map[string]string) {
	members, groups := e.observed()
	for name, raw := range rf.Store.Members {
		name = expand(name, vars)
		var want map[string]any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		got, ok := members[name]
		if want["absent"] == true {
			if ok {
				t.Errorf("store: member %s exists: %+v", name, got)
			}
			continue
		}
		if !ok {
			t.Errorf("store: member %s missing (have %v)", name, keys(members))
			continue
		}
		var gotMap map[string]any
		b, _ := json.Marshal(got)
		_ = json.Unmarshal(b, &gotMap)
		for k, v := range want {
			if !reflect.DeepEqual(gotMap[k], v) {
				t.Errorf("store: member %s %s = %#v, want %#v", name, k, gotMap[k], v)
			}
		}
	}
	for name, want := range rf.Store.Groups {
		got, ok := groups[name]
		sort.Strings(want)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("store: group %q members = %v (exists %v), want %v", name, got, ok, want)
		}
	}
	if rf.Store.Exact {
		if len(members) != len(rf.Store.Members) || len(groups) != len(rf.Store.Groups) {
			t.Errorf("store holds members %v and groups %v; the file names %d and %d", keys(members), keysOf(groups), len(rf.Store.Members), len(rf.Store.Groups))
		}
	}
}

func keys(m map[string]memberView) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func keysOf(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
