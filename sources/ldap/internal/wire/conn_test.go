package wire

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
)

// peer is a scripted LDAP server on a loopback socket: for each request it
// reads, answer writes the raw bytes it wants, so a test can send what no
// real server would.
type peer struct {
	ln       net.Listener
	requests chan *ber.Packet
}

func startPeer(t *testing.T, answer func(c net.Conn, id int64, req *ber.Packet)) *peer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{ln: ln, requests: make(chan *ber.Packet, 16)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for {
					req, err := ber.ReadPacket(c)
					if err != nil || len(req.Children) < 2 {
						return
					}
					select {
					case p.requests <- req:
					default:
					}
					if req.Children[1].Tag == goldap.ApplicationUnbindRequest {
						return
					}
					id, _ := req.Children[0].Value.(int64)
					answer(c, id, req)
				}
			}()
		}
	}()
	return p
}

func (p *peer) dial(t *testing.T, max int) *Conn {
	t.Helper()
	c, err := Dial(context.Background(), "ldap://"+p.ln.Addr().String(), Options{DialTimeout: 5 * time.Second, MaxMessageBytes: max})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func resultOp(tag ber.Tag, code int, diag string) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, code, ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diag, ""))
	return op
}

func ctx5s(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestBind(t *testing.T) {
	p := startPeer(t, func(c net.Conn, id int64, req *ber.Packet) {
		code := 0
		if string(req.Children[1].Children[2].Data.Bytes()) != "pw" {
			code = goldap.LDAPResultInvalidCredentials
		}
		c.Write(encodeMessage(id, resultOp(goldap.ApplicationBindResponse, code, "bad credentials")))
	})
	c := p.dial(t, 4096)
	var le *goldap.Error
	if err := c.Bind(ctx5s(t), "cn=sync,dc=x", "nope"); !errors.As(err, &le) || le.ResultCode != goldap.LDAPResultInvalidCredentials {
		t.Fatalf("wrong password: %v", err)
	}
	if err := c.Bind(ctx5s(t), "cn=sync,dc=x", "pw"); err != nil {
		t.Fatalf("a result code is not a broken connection: %v", err)
	}
	if req := <-p.requests; string(req.Children[1].Children[1].Data.Bytes()) != "cn=sync,dc=x" {
		t.Errorf("bind DN sent: %q", req.Children[1].Children[1].Data.Bytes())
	}
}

func TestSearch(t *testing.T) {
	p := startPeer(t, func(c net.Conn, id int64, req *ber.Packet) {
		c.Write(encodeMessage(id, entryOp("uid=a,dc=x", []string{"uid", "member"}, map[string][]string{"uid": {"a"}, "member": {"cn=1", "cn=2"}})))
		ref := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultReference, nil, "")
		ref.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "ldap://other/dc=y", ""))
		c.Write(encodeMessage(id, ref))
		intermediate := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 25, nil, "")
		c.Write(encodeMessage(id, intermediate))
		c.Write(encodeMessage(id, entryOp("uid=b,dc=x", []string{"uid"}, map[string][]string{"uid": {"b"}})))
		pc := goldap.NewControlPaging(0)
		pc.SetCookie([]byte("page2"))
		c.Write(encodeMessage(id, resultOp(goldap.ApplicationSearchResultDone, 0, ""), pc))
	})
	c := p.dial(t, 4096)
	var got []string
	res, err := c.Search(ctx5s(t), SearchRequest{Base: "dc=x", Scope: goldap.ScopeWholeSubtree, Filter: "(uid=*)",
		Attrs: []string{"uid", "member"}, TimeLimit: 7, Paging: &Paging{Size: 50, Cookie: []byte("page1")}},
		func(e *Entry) error { got = append(got, dump(e)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "uid=a,dc=x|uid=a|member=cn=1,cn=2 uid=b,dc=x|uid=b" {
		t.Errorf("entries %q", got)
	}
	if !res.Paged || string(res.Cookie) != "page2" || strings.Join(res.References, " ") != "ldap://other/dc=y" {
		t.Errorf("result %+v", res)
	}
	// The request as sent.
	req := <-p.requests
	op := req.Children[1]
	f, _ := goldap.DecompileFilter(op.Children[6])
	if string(op.Children[0].Data.Bytes()) != "dc=x" || op.Children[1].Value.(int64) != goldap.ScopeWholeSubtree ||
		op.Children[4].Value.(int64) != 7 || f != "(uid=*)" || len(op.Children[7].Children) != 2 {
		t.Errorf("search request: base %q scope %v time %v filter %q attrs %d", op.Children[0].Data.Bytes(),
			op.Children[1].Value, op.Children[4].Value, f, len(op.Children[7].Children))
	}
	ctrl, err := goldap.DecodeControl(req.Children[2].Children[0])
	if pc, ok := ctrl.(*goldap.ControlPaging); err != nil || !ok || pc.PagingSize != 50 || string(pc.Cookie) != "page1" {
		t.Errorf("paging control sent: %v %v", ctrl, err)
	}
}

func TestSearchFailures(t *testing.T) {
	done := func(c net.Conn, id int64) {
		c.Write(encodeMessage(id, resultOp(goldap.ApplicationSearchResultDone, 0, "")))
	}
	errStop := errors.New("stop")
	for _, tc := range []struct {
		name   string
		answer func(c net.Conn, id int64)
		fn     func(*Entry) error
		check  func(t *testing.T, err error)
		filter string
	}{
		{"message over the bound, refused from its length", func(c net.Conn, id int64) {
			c.Write([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01}) // 2 GiB announced, never sent
		}, nil, func(t *testing.T, err error) {
			var tl *MessageTooLargeError
			if !errors.As(err, &tl) || tl.Size != 1<<31-1 || tl.Limit != 4096 {
				t.Errorf("err = %v, want a *MessageTooLargeError of 2147483647 over 4096", err)
			}
		}, ""},
		{"message id of another request", func(c net.Conn, id int64) {
			c.Write(encodeMessage(id+5, resultOp(goldap.ApplicationSearchResultDone, 0, "")))
		},
			nil, wantIs(ErrMalformed, "message id"), ""},
		{"operation that is no search response", func(c net.Conn, id int64) {
			c.Write(encodeMessage(id, resultOp(goldap.ApplicationBindResponse, 0, "")))
		},
			nil, wantIs(ErrMalformed, "operation 0x61 in a search response"), ""},
		{"not a message", func(c net.Conn, id int64) { c.Write([]byte{0x04, 0x00}) }, nil, wantIs(ErrMalformed, "message starts with 0x04"), ""},
		{"notice of disconnection", func(c net.Conn, id int64) {
			c.Write(encodeMessage(0, resultOp(goldap.ApplicationExtendedResponse, goldap.LDAPResultUnavailable, "shutting down")))
		}, nil, wantText("the server disconnected", "shutting down"), ""},
		{"closed mid-response", func(c net.Conn, id int64) {
			c.Write(encodeMessage(id, entryOp("uid=a,dc=x", nil, nil))[:6])
			c.Close()
		}, nil, wantText("the server closed the connection mid-response"), ""},
		{"result code", func(c net.Conn, id int64) {
			c.Write(encodeMessage(id, resultOp(goldap.ApplicationSearchResultDone, goldap.LDAPResultSizeLimitExceeded, "")))
		}, nil, func(t *testing.T, err error) {
			if !goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
				t.Errorf("err = %v, want result 4", err)
			}
		}, ""},
		{"callback error", func(c net.Conn, id int64) {
			c.Write(encodeMessage(id, entryOp("uid=a,dc=x", nil, nil)))
			done(c, id)
		}, func(*Entry) error { return errStop }, func(t *testing.T, err error) {
			if err != errStop {
				t.Errorf("err = %v, want the callback's error as is", err)
			}
		}, ""},
		{"unparseable filter", func(c net.Conn, id int64) { t.Error("a request with a bad filter was sent") },
			nil, wantText(`filter "(uid=a"`), "(uid=a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startPeer(t, func(c net.Conn, id int64, req *ber.Packet) {
				if req.Children[1].Tag == goldap.ApplicationSearchRequest {
					tc.answer(c, id)
				}
			})
			c := p.dial(t, 4096)
			fn := tc.fn
			if fn == nil {
				fn = func(*Entry) error { return nil }
			}
			filter := tc.filter
			if filter == "" {
				filter = "(objectClass=*)"
			}
			start := time.Now()
			_, err := c.Search(ctx5s(t), SearchRequest{Base: "dc=x", Filter: filter}, fn)
			tc.check(t, err)
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
			if tc.filter != "" || goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
				return // the connection is still in step
			}
			// Out of step now: the next operation fails at once.
			if _, again := c.Search(ctx5s(t), SearchRequest{Base: "dc=x", Filter: filter}, fn); again == nil {
				t.Errorf("a search after %v succeeded", err)
			}
		})
	}
}

func wantIs(target error, text string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		if !errors.Is(err, target) || !strings.Contains(err.Error(), text) {
			t.Errorf("err = %v, want %v with %q", err, target, text)
		}
	}
}

func wantText(texts ...string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		for _, s := range texts {
			if err == nil || !strings.Contains(err.Error(), s) {
				t.Errorf("err = %v, want %q", err, s)
			}
		}
	}
}

func TestCancelInterruptsARead(t *testing.T) {
	p := startPeer(t, func(c net.Conn, id int64, req *ber.Packet) {}) // never answers
	c := p.dial(t, 4096)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	if _, err := c.Search(ctx, SearchRequest{Base: "dc=x", Filter: "(objectClass=*)"}, func(*Entry) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("cancel took %s", time.Since(start))
	}
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	c = p.dial(t, 4096)
	if err := c.Bind(ctx, "", ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestDialNeedsAMessageBound(t *testing.T) {
	if _, err := Dial(context.Background(), "ldap://127.0.0.1:1", Options{}); err == nil || !strings.Contains(err.Error(), "MaxMessageBytes") {
		t.Errorf("Dial without a bound = %v", err)
	}
}
