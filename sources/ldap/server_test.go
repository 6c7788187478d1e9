package ldap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
)

// testServer is a minimal in-process LDAP server that speaks the protocol
// on a real socket, so the wire client is tested end to end. It answers
// binds itself and hands searches to a handler, which writes the response
// messages it wants: the behaviours of AD (ranged attributes) and of broken
// servers (no paging control, referrals, dropped connections) that slapd
// and Samba will not produce on demand.
type testServer struct {
	t        *testing.T
	ln       net.Listener
	password string
	handle   func(w *respWriter, req srvSearch)
	mu       sync.Mutex
	searches []srvSearch
}

// srvSearch is a decoded search request.
type srvSearch struct {
	Base   string
	Scope  int64
	Filter string
	Attrs  []string
	Paged  bool
	Size   uint32
	Cookie string
}

func startServer(t *testing.T, handle func(w *respWriter, req srvSearch)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, ln: ln, password: "pw", handle: handle}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *testServer) url() string { return "ldap://" + s.ln.Addr().String() }

func (s *testServer) serve(c net.Conn) {
	defer c.Close()
	for {
		p, err := ber.ReadPacket(c)
		if err != nil || len(p.Children) < 2 {
			return
		}
		id, _ := p.Children[0].Value.(int64)
		op := p.Children[1]
		w := &respWriter{c: c, id: id}
		switch op.Tag {
		case goldap.ApplicationBindRequest:
			code := uint16(goldap.LDAPResultSuccess)
			if pw := string(op.Children[2].Data.Bytes()); pw != s.password {
				code = goldap.LDAPResultInvalidCredentials
			}
			w.result(goldap.ApplicationBindResponse, code, "")
		case goldap.ApplicationUnbindRequest:
			return
		case goldap.ApplicationSearchRequest:
			req := decodeSearch(s.t, p)
			s.mu.Lock()
			s.searches = append(s.searches, req)
			s.mu.Unlock()
			s.handle(w, req)
			if w.dropped {
				return
			}
		default:
			w.result(goldap.ApplicationExtendedResponse, goldap.LDAPResultProtocolError, "unsupported")
		}
	}
}

func decodeSearch(t *testing.T, p *ber.Packet) srvSearch {
	op := p.Children[1]
	req := srvSearch{Base: string(op.Children[0].Data.Bytes())}
	req.Scope, _ = op.Children[1].Value.(int64)
	f, err := goldap.DecompileFilter(op.Children[6])
	if err != nil {
		t.Errorf("server: filter: %v", err)
	}
	req.Filter = f
	for _, a := range op.Children[7].Children {
		req.Attrs = append(req.Attrs, string(a.Data.Bytes()))
	}
	if len(p.Children) > 2 {
		for _, c := range p.Children[2].Children {
			ctrl, err := goldap.DecodeControl(c)
			if err != nil {
				t.Errorf("server: control: %v", err)
				continue
			}
			if pc, ok := ctrl.(*goldap.ControlPaging); ok {
				req.Paged, req.Size, req.Cookie = true, pc.PagingSize, string(pc.Cookie)
			}
		}
	}
	return req
}

// respWriter writes the responses to one request.
type respWriter struct {
	c       net.Conn
	id      int64
	dropped bool
}

func (w *respWriter) write(op *ber.Packet, controls ...goldap.Control) {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, w.id, ""))
	p.AppendChild(op)
	if len(controls) > 0 {
		cs := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "")
		for _, c := range controls {
			cs.AppendChild(c.Encode())
		}
		p.AppendChild(cs)
	}
	w.c.Write(p.Bytes())
}

func (w *respWriter) result(tag ber.Tag, code uint16, diag string, controls ...goldap.Control) {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(code), ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diag, ""))
	w.write(op, controls...)
}

// entry writes a SearchResultEntry; attrs alternate name and value.
func (w *respWriter) entry(dn string, attrs ...string) {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultEntry, nil, "")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, ""))
	list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	var order []string
	vals := map[string][]string{}
	for i := 0; i+1 < len(attrs); i += 2 {
		if _, ok := vals[attrs[i]]; !ok {
			order = append(order, attrs[i])
		}
		vals[attrs[i]] = append(vals[attrs[i]], attrs[i+1])
	}
	for _, name := range order {
		a := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
		a.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, name, ""))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "")
		for _, v := range vals[name] {
			set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, ""))
		}
		a.AppendChild(set)
		list.AppendChild(a)
	}
	op.AppendChild(list)
	w.write(op)
}

func (w *respWriter) reference(url string) {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultReference, nil, "")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, url, ""))
	w.write(op)
}

// done ends a search; cookie nil means no paging control at all.
func (w *respWriter) done(code uint16, diag string, cookie *string) {
	var controls []goldap.Control
	if cookie != nil {
		pc := goldap.NewControlPaging(0)
		pc.SetCookie([]byte(*cookie))
		controls = append(controls, pc)
	}
	w.result(goldap.ApplicationSearchResultDone, code, diag, controls...)
}

func (w *respWriter) drop() { w.dropped = true; w.c.Close() }

func ptr(s string) *string { return &s }

// pagedEntries serves entries with paging by an offset cookie.
func pagedEntries(w *respWriter, req srvSearch, n int, write func(i int)) {
	off, _ := strconv.Atoi(req.Cookie)
	end := min(n, off+int(req.Size))
	for i := off; i < end; i++ {
		write(i)
	}
	next := ""
	if end < n {
		next = strconv.Itoa(end)
	}
	w.done(0, "", ptr(next))
}

// adLike answers like AD: users under ou=users, and a group "big" whose
// member attribute comes back in ranges of 1500 values.
func adLike(nUsers int, rangeFail func(start int) bool) func(w *respWriter, req srvSearch) {
	userDN := func(i int) string { return fmt.Sprintf("CN=User %04d,OU=Users,DC=corp,DC=x", i) }
	guid := func(i int) string { return fmt.Sprintf("%016d", i) } // 16 bytes
	return func(w *respWriter, req srvSearch) {
		switch {
		case req.Base == "ou=users,dc=corp,dc=x":
			pagedEntries(w, req, nUsers, func(i int) {
				w.entry(userDN(i), "objectGUID", guid(i), "userPrincipalName", fmt.Sprintf("u%04d@corp.x", i),
					"userAccountControl", "512", "sAMAccountName", fmt.Sprintf("u%04d", i))
			})
		case req.Base == "ou=groups,dc=corp,dc=x":
			pagedEntries(w, req, 1, func(int) {
				vals := []string{"objectGUID", guid(9999), "cn", "big"}
				for i := 0; i < min(1500, nUsers); i++ {
					vals = append(vals, "member;range=0-1499", strings.ToLower(userDN(i)))
				}
				w.entry("CN=big,OU=Groups,DC=corp,DC=x", vals...)
			})
		case req.Scope == int64(goldap.ScopeBaseObject) && strings.EqualFold(req.Base, "CN=big,OU=Groups,DC=corp,DC=x"):
			var start int
			fmt.Sscanf(req.Attrs[0], "member;range=%d-*", &start)
			if rangeFail != nil && rangeFail(start) {
				w.entry(req.Base) // the attribute missing: a truncated range
				w.done(0, "", nil)
				return
			}
			end := start + 1499
			name := fmt.Sprintf("member;range=%d-%d", start, end)
			if end >= nUsers-1 {
				end, name = nUsers-1, fmt.Sprintf("member;range=%d-*", start)
			}
			var vals []string
			for i := start; i <= end; i++ {
				vals = append(vals, name, userDN(i))
			}
			w.entry(req.Base, vals...)
			w.done(0, "", nil)
		default:
			w.done(goldap.LDAPResultNoSuchObject, "no such base "+req.Base, nil)
		}
	}
}

func serverSource(t *testing.T, srv *testServer, mutate func(*Config)) *Source {
	t.Helper()
	cfg := Config{
		Flavor: FlavorAD, URL: srv.url(), BindDN: "cn=sync,dc=corp,dc=x", BindPassword: "pw", PageSize: 1000,
		User:  UserConfig{BaseDN: "ou=users,dc=corp,dc=x"},
		Group: GroupConfig{BaseDN: "ou=groups,dc=corp,dc=x", Nested: true},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New("ad-test", cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func snapshotCtx(t *testing.T, s *Source) (orgsync.Snapshot, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return s.Snapshot(ctx)
}

func TestRangedMemberRetrieval(t *testing.T) {
	srv := startServer(t, adLike(3500, nil))
	snap, err := snapshotCtx(t, serverSource(t, srv, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Members) != 3500 || len(snap.Groups) != 1 {
		t.Fatalf("%d members, %d groups; want 3500 and 1", len(snap.Members), len(snap.Groups))
	}
	if n := len(snap.Groups[0].Members); n != 3500 {
		t.Errorf("big has %d members, want all 3500 across the ranges", n)
	}
	var ranges []string
	for _, s := range srv.searches {
		if s.Scope == int64(goldap.ScopeBaseObject) {
			ranges = append(ranges, s.Attrs[0])
		}
	}
	if got := strings.Join(ranges, " "); got != "member;range=1500-* member;range=3000-*" {
		t.Errorf("range requests = %q", got)
	}
	if pages := len(srv.searches) - len(ranges); pages != 5 {
		t.Errorf("%d paged requests, want 4 user pages of 1000 and 1 group page", pages)
	}
}

func TestServerFailures(t *testing.T) {
	users := func(w *respWriter, req srvSearch, then func()) {
		if req.Base != "ou=users,dc=corp,dc=x" {
			w.done(0, "", ptr(""))
			return
		}
		w.entry("CN=a,OU=Users,DC=corp,DC=x", "objectGUID", "0123456789abcdef", "userPrincipalName", "a@corp.x")
		then()
	}
	for _, tc := range []struct {
		name   string
		handle func(w *respWriter, req srvSearch)
		mutate func(*Config)
		want   []string
	}{
		{"a failing later range", adLike(3500, func(start int) bool { return start == 3000 }), nil,
			[]string{"member;range=3000-*", "truncated", "nothing was synced"}},
		{"no paging control", func(w *respWriter, req srvSearch) {
			users(w, req, func() { w.done(0, "", nil) })
		}, nil, []string{"no paged-results control", "ldap.user.base_dn"}},
		{"referral result", func(w *respWriter, req srvSearch) {
			w.done(goldap.LDAPResultReferral, "go elsewhere", nil)
		}, nil, []string{"referral (LDAP result 10)", "ldap.user.base_dn"}},
		{"continuation reference", func(w *respWriter, req srvSearch) {
			users(w, req, func() { w.reference("ldap://other.corp.x/DC=other"); w.done(0, "", ptr("")) })
		}, func(c *Config) { c.References = ReferencesError }, []string{"referred part of the result to ldap://other.corp.x/DC=other"}},
		{"size limit", func(w *respWriter, req srvSearch) {
			users(w, req, func() { w.done(goldap.LDAPResultSizeLimitExceeded, "", nil) })
		}, nil, []string{"size limit exceeded (LDAP result 4)", "after 1 entries"}},
		{"time limit", func(w *respWriter, req srvSearch) {
			users(w, req, func() { w.done(goldap.LDAPResultTimeLimitExceeded, "", nil) })
		}, nil, []string{"time limit exceeded (LDAP result 3)"}},
		{"connection dropped mid-page", func(w *respWriter, req srvSearch) {
			users(w, req, func() { w.drop() })
		}, nil, []string{"closed the connection mid-response"}},
		{"second page drops", func(w *respWriter, req srvSearch) {
			if req.Cookie != "" {
				w.drop()
				return
			}
			users(w, req, func() { w.done(0, "", ptr("more")) })
		}, nil, []string{"after 1 entries", "closed the connection"}},
		{"server hangs", func(w *respWriter, req srvSearch) {
			users(w, req, func() {})
		}, func(c *Config) { c.SearchTimeout = orgsync.Duration(300 * time.Millisecond) }, []string{"timed out", "ldap.search_timeout"}},
		{"wrong password", nil, func(c *Config) { c.BindPassword = "nope" }, []string{"LDAP result 49", "ldap.bind_password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.handle)
			snap, err := snapshotCtx(t, serverSource(t, srv, tc.mutate))
			if err == nil {
				t.Fatalf("Snapshot = %d members, no error", len(snap.Members))
			}
			if len(snap.Members) != 0 {
				t.Errorf("failed Snapshot has %d members", len(snap.Members))
			}
			for _, w := range append(tc.want, `ldap source "ad-test"`) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestContinuationReferencesIgnoredForAD(t *testing.T) {
	srv := startServer(t, func(w *respWriter, req srvSearch) {
		if req.Base == "ou=users,dc=corp,dc=x" {
			w.entry("CN=a,OU=Users,DC=corp,DC=x", "objectGUID", "0123456789abcdef", "userPrincipalName", "a@corp.x")
			w.reference("ldap://corp.x/DC=DomainDnsZones,DC=corp,DC=x")
		}
		w.done(0, "", ptr(""))
	})
	snap, err := snapshotCtx(t, serverSource(t, srv, nil))
	if err != nil || len(snap.Members) != 1 {
		t.Fatalf("Snapshot = %d members, %v; want the one user (flavor ad ignores references)", len(snap.Members), err)
	}
}

func TestCancelInterruptsABlockedRead(t *testing.T) {
	srv := startServer(t, func(w *respWriter, req srvSearch) {}) // never answers
	s := serverSource(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := s.Snapshot(ctx)
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("cancel took %v", time.Since(start))
	}
}

func TestMultipleURLsTriedInOrder(t *testing.T) {
	srv := startServer(t, func(w *respWriter, req srvSearch) { w.done(0, "", ptr("")) })
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "ldap://" + dead.Addr().String()
	dead.Close()
	s := serverSource(t, srv, func(c *Config) { c.URLs = []string{c.URL}; c.URL = deadURL })
	if _, err := snapshotCtx(t, s); err != nil {
		t.Fatalf("second URL not used: %v", err)
	}
	s = serverSource(t, srv, func(c *Config) { c.URL = deadURL })
	_, err = snapshotCtx(t, s)
	if err == nil || !strings.Contains(err.Error(), "connect to "+deadURL+" (ldap.url)") {
		t.Fatalf("err = %v, want the unreachable URL named", err)
	}
}
