package wire

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
)

// Conn is an LDAPv3 client connection doing one operation at a time:
// exactly what a sync needs, and it lets a search stream its entries from
// a reused buffer instead of through go-ldap's per-entry packet trees. It
// is not safe for concurrent use.
type Conn struct {
	nc     net.Conn
	br     *bufio.Reader
	id     int64
	buf    []byte
	e      Entry
	broken error // set once the stream is out of step; every later call fails
	// maxMessage bounds one response message (Options.MaxMessageBytes):
	// its length is read before the message, so a huge or hostile one is
	// refused before any of it is buffered.
	maxMessage int
}

// Options are the settings of Dial.
type Options struct {
	// DialTimeout bounds the TCP connect and the TLS handshake (ldaps or
	// StartTLS); 0 leaves them to ctx.
	DialTimeout time.Duration
	// TLS is cloned for each connection, ServerName set to the URL's
	// host. It is used for ldaps URLs and with StartTLS; nil means
	// tls.Config's defaults.
	TLS *tls.Config
	// StartTLS upgrades an ldap:// connection before anything else.
	StartTLS bool
	// MaxMessageBytes bounds one response message; a larger one fails the
	// operation with a *MessageTooLargeError. Required: the bound is the
	// caller's setting (ldap.max_message_bytes), so there is no default.
	MaxMessageBytes int
}

// MessageTooLargeError is a response message whose announced length is
// over the bound; it is refused from its length, before it is read.
type MessageTooLargeError struct {
	Size, Limit int
}

func (e *MessageTooLargeError) Error() string {
	return fmt.Sprintf("a response message of %d bytes, over the limit of %d", e.Size, e.Limit)
}

// Dial connects to an ldap:// or ldaps:// URL (default ports 389 and
// 636), with TLS as opts say.
func Dial(ctx context.Context, rawURL string, opts Options) (*Conn, error) {
	if opts.MaxMessageBytes <= 0 {
		return nil, errors.New("no bound on the response message size (Options.MaxMessageBytes)")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	port := u.Port()
	if port == "" {
		port = "389"
		if u.Scheme == "ldaps" {
			port = "636"
		}
	}
	if opts.DialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.DialTimeout)
		defer cancel()
	}
	d := net.Dialer{}
	nc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{}
	if opts.TLS != nil {
		tc = opts.TLS.Clone()
	}
	tc.ServerName = u.Hostname()
	if u.Scheme == "ldaps" {
		t := tls.Client(nc, tc)
		if err := t.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		nc = t
	}
	w := newConn(nc, opts.MaxMessageBytes)
	if opts.StartTLS {
		if err := w.startTLS(ctx, tc); err != nil {
			w.nc.Close()
			return nil, fmt.Errorf("StartTLS: %w", err)
		}
	}
	return w, nil
}

func newConn(nc net.Conn, maxMessage int) *Conn {
	return &Conn{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), maxMessage: maxMessage}
}

// startTLS runs the StartTLS extended operation and the handshake.
func (w *Conn) startTLS(ctx context.Context, tc *tls.Config) error {
	req := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationExtendedRequest, nil, "")
	req.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, "1.3.6.1.4.1.1466.20037", ""))
	if err := w.roundTrip(ctx, req, opExtendedResponse); err != nil {
		return err
	}
	t := tls.Client(w.nc, tc)
	if err := t.HandshakeContext(ctx); err != nil {
		return err
	}
	w.nc, w.br = t, bufio.NewReaderSize(t, 64<<10)
	return nil
}

// Bind authenticates with a simple bind; an empty dn binds anonymously. A
// result code other than success is a *goldap.Error.
func (w *Conn) Bind(ctx context.Context, dn, password string) error {
	req := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationBindRequest, nil, "")
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, ""))
	req.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, ""))
	req.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, password, ""))
	return w.roundTrip(ctx, req, opBindResponse)
}

// roundTrip sends a request and reads its one LDAPResult response.
func (w *Conn) roundTrip(ctx context.Context, req *ber.Packet, wantOp byte) error {
	done, err := w.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	id, err := w.send(req, nil)
	if err != nil {
		return w.fail(ctx, err)
	}
	for {
		m, err := w.read(id)
		if err != nil {
			return w.fail(ctx, err)
		}
		if m.op == opIntermediateResponse {
			continue
		}
		if m.op != wantOp {
			return w.fail(ctx, fmt.Errorf("%w: operation 0x%02x in answer to 0x%02x", ErrMalformed, m.op, wantOp))
		}
		return resultError(m.body)
	}
}

// Search sends one search request and hands each entry to fn as it
// arrives. The entry and every byte slice in it are only valid during the
// call: fn copies what it keeps. An error of fn ends the search and is
// returned as is; the rest of the response is then still on the wire, so
// the connection is closed for use. A result code other than success is a
// *goldap.Error.
func (w *Conn) Search(ctx context.Context, r SearchRequest, fn func(*Entry) error) (PageResult, error) {
	var res PageResult
	done, err := w.begin(ctx)
	if err != nil {
		return res, err
	}
	defer done()
	req, controls, err := encodeSearch(r)
	if err != nil {
		return res, err
	}
	id, err := w.send(req, controls)
	if err != nil {
		return res, w.fail(ctx, err)
	}
	for {
		m, err := w.read(id)
		if err != nil {
			return res, w.fail(ctx, err)
		}
		switch m.op {
		case opSearchResultEntry:
			if err := parseEntry(m.body, &w.e); err != nil {
				return res, w.fail(ctx, err)
			}
			if err := fn(&w.e); err != nil {
				// The rest of the response is still on the wire.
				w.broken = fmt.Errorf("search abandoned: %w", err)
				return res, err
			}
		case opSearchResultReference:
			refs, err := parseReference(m.body)
			if err != nil {
				return res, w.fail(ctx, err)
			}
			res.References = append(res.References, refs...)
		case opIntermediateResponse:
		case opSearchResultDone:
			if err := resultError(m.body); err != nil {
				return res, err
			}
			cookie, found, err := parsePaging(m.controls)
			if err != nil {
				return res, w.fail(ctx, err)
			}
			res.Paged, res.Cookie = found, append([]byte(nil), cookie...)
			return res, nil
		default:
			return res, w.fail(ctx, fmt.Errorf("%w: operation 0x%02x in a search response", ErrMalformed, m.op))
		}
	}
}

func encodeSearch(r SearchRequest) (req, controls *ber.Packet, err error) {
	filter, err := goldap.CompileFilter(r.Filter)
	if err != nil {
		return nil, nil, fmt.Errorf("filter %q: %w", r.Filter, err)
	}
	req = ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchRequest, nil, "")
	req.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, r.Base, ""))
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(r.Scope), ""))
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(goldap.NeverDerefAliases), ""))
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, ""))
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, uint64(r.TimeLimit), ""))
	req.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, ""))
	req.AppendChild(filter)
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	for _, a := range r.Attrs {
		attrs.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, ""))
	}
	req.AppendChild(attrs)
	if r.Paging != nil || len(r.Controls) > 0 {
		controls = ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "")
	}
	if r.Paging != nil {
		pc := goldap.NewControlPaging(r.Paging.Size)
		pc.SetCookie(r.Paging.Cookie)
		controls.AppendChild(pc.Encode())
	}
	for _, c := range r.Controls {
		controls.AppendChild(c.Encode())
	}
	return req, controls, nil
}

// begin ties the connection to ctx for one operation: its deadline becomes
// the socket's, and cancelling it interrupts a blocked read or write.
func (w *Conn) begin(ctx context.Context) (done func(), err error) {
	if w.broken != nil {
		return nil, w.broken
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dl, _ := ctx.Deadline()
	if err := w.nc.SetDeadline(dl); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { w.nc.SetDeadline(time.Unix(1, 0)) })
	return func() {
		if !stop() && ctx.Err() != nil && w.broken == nil {
			w.broken = ctx.Err()
		}
	}, nil
}

// fail marks the connection broken: after a failed read or write its
// stream is out of step. A timeout caused by ctx is reported as ctx's error.
func (w *Conn) fail(ctx context.Context, err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		// The socket deadline is ctx's, and may fire just before ctx's timer.
		if ctx.Err() != nil {
			err = ctx.Err()
		} else if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			err = context.DeadlineExceeded
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("the server closed the connection mid-response")
	}
	w.broken = err
	return err
}

func (w *Conn) send(op, controls *ber.Packet) (int64, error) {
	w.id++
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, w.id, ""))
	p.AppendChild(op)
	if controls != nil {
		p.AppendChild(controls)
	}
	_, err := w.nc.Write(p.Bytes())
	return w.id, err
}

// read reads the next message, which must answer request id. A notice of
// disconnection (id 0) is an error.
func (w *Conn) read(id int64) (message, error) {
	b, err := w.readRaw()
	if err != nil {
		return message{}, err
	}
	m, err := parseMessage(b)
	if err != nil {
		return m, err
	}
	if m.id == 0 && m.op == opExtendedResponse {
		err := resultError(m.body)
		if err == nil {
			err = errors.New("unsolicited notification")
		}
		return m, fmt.Errorf("the server disconnected: %w", err)
	}
	if m.id != id {
		return m, fmt.Errorf("%w: message id %d in answer to %d", ErrMalformed, m.id, id)
	}
	return m, nil
}

// readRaw reads one LDAPMessage's content into the reused buffer.
func (w *Conn) readRaw() ([]byte, error) {
	tag, err := w.br.ReadByte()
	if err != nil {
		return nil, err
	}
	if tag != tagSequence {
		return nil, fmt.Errorf("%w: message starts with 0x%02x", ErrMalformed, tag)
	}
	l, err := w.br.ReadByte()
	if err != nil {
		return nil, unexpected(err)
	}
	n := int(l)
	if l&0x80 != 0 {
		k := int(l & 0x7f)
		if k == 0 || k > 4 {
			return nil, fmt.Errorf("%w: length of %d bytes", ErrMalformed, k)
		}
		n = 0
		for range k {
			c, err := w.br.ReadByte()
			if err != nil {
				return nil, unexpected(err)
			}
			n = n<<8 | int(c)
		}
	}
	if n > w.maxMessage {
		return nil, &MessageTooLargeError{Size: n, Limit: w.maxMessage}
	}
	if cap(w.buf) < n {
		w.buf = make([]byte, n, max(n, 2*cap(w.buf)))
	}
	w.buf = w.buf[:n]
	if _, err := io.ReadFull(w.br, w.buf); err != nil {
		return nil, unexpected(err)
	}
	return w.buf, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Close unbinds (unless the connection is out of step) and closes the
// connection.
func (w *Conn) Close() error {
	if w.broken == nil {
		w.nc.SetWriteDeadline(time.Now().Add(time.Second))
		unbind := ber.Encode(ber.ClassApplication, ber.TypePrimitive, goldap.ApplicationUnbindRequest, nil, "")
		w.send(unbind, nil)
	}
	return w.nc.Close()
}
