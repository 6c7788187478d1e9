package statepatch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/cespare/xxhash/v2"
)

const (
	magic  = 'p'
	layout = 1
)

// ID names a byte string by its length and xxHash64: what a patch says it
// applies to and gives, and what the store compares them with.
type ID struct {
	Len int
	Sum uint64
}

// IDOf returns the ID of b.
func IDOf(b []byte) ID { return ID{Len: len(b), Sum: xxhash.Sum64(b)} }

// String is the ID as the store keeps it: "length:sum" (sum in hex).
func (id ID) String() string {
	return strconv.Itoa(id.Len) + ":" + strconv.FormatUint(id.Sum, 16)
}

// Span says that res[Dst:Dst+N] is base[Src:Src+N].
type Span struct{ Dst, Src, N int }

// Build returns a patch that turns base into res, copying the spans (each
// extended over the bytes that go on matching on either side, and checked:
// a span that does not hold is written as literal bytes) and writing the
// bytes between them literally. Spans must be in Dst order and not overlap.
func Build(base, res []byte, spans []Span) []byte {
	type op struct{ src, dst, n int } // a copy
	ops := make([]op, 0, len(spans))
	done := 0 // res is covered up to here
	for i, sp := range spans {
		if sp.N <= 0 || sp.Dst < done || sp.Dst+sp.N > len(res) || sp.Src < 0 || sp.Src+sp.N > len(base) ||
			!bytes.Equal(res[sp.Dst:sp.Dst+sp.N], base[sp.Src:sp.Src+sp.N]) {
			continue
		}
		for sp.Dst > done && sp.Src > 0 && res[sp.Dst-1] == base[sp.Src-1] {
			sp.Dst, sp.Src, sp.N = sp.Dst-1, sp.Src-1, sp.N+1
		}
		limit := len(res)
		if i+1 < len(spans) && spans[i+1].Dst < limit {
			limit = spans[i+1].Dst
		}
		for sp.Dst+sp.N < limit && sp.Src+sp.N < len(base) && res[sp.Dst+sp.N] == base[sp.Src+sp.N] {
			sp.N++
		}
		if k := len(ops) - 1; k >= 0 && ops[k].dst+ops[k].n == sp.Dst && ops[k].src+ops[k].n == sp.Src {
			ops[k].n += sp.N
		} else {
			ops = append(ops, op{src: sp.Src, dst: sp.Dst, n: sp.N})
		}
		done = sp.Dst + sp.N
	}
	out := make([]byte, 0, 64+len(ops)*8)
	out = append(out, magic, layout)
	out = appendID(out, IDOf(base))
	out = appendID(out, IDOf(res))
	done = 0
	for _, o := range ops {
		if o.dst > done {
			out = appendLiteral(out, res[done:o.dst])
		}
		out = binary.AppendUvarint(out, uint64(o.n)<<1|1)
		out = binary.AppendUvarint(out, uint64(o.src))
		done = o.dst + o.n
	}
	if done < len(res) {
		out = appendLiteral(out, res[done:])
	}
	return out
}

func appendID(b []byte, id ID) []byte {
	b = binary.AppendUvarint(b, uint64(id.Len))
	return binary.LittleEndian.AppendUint64(b, id.Sum)
}

func appendLiteral(b, lit []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(lit))<<1)
	return append(b, lit...)
}

// ErrPatch: the patch does not decode, or does not give what it says.
var ErrPatch = errors.New("statepatch: the patch is damaged")

// ErrBase: the patch was made against another base.
var ErrBase = errors.New("statepatch: the patch applies to another base")

// Header returns the IDs of the base p applies to and of the result it
// gives.
func Header(p []byte) (base, res ID, err error) {
	r := reader{b: p}
	if len(p) < 2 || p[0] != magic || p[1] != layout {
		return ID{}, ID{}, ErrPatch
	}
	r.b = p[2:]
	base, res = r.id(), r.id()
	if r.err != nil {
		return ID{}, ID{}, ErrPatch
	}
	return base, res, nil
}

// Apply returns the result of p applied to base, appended to dst[:0]
// (dst may be nil; it must not share memory with base). It checks that
// base is the one p was made against and that the result is the one p
// says it gives.
func Apply(dst, base, p []byte) ([]byte, error) {
	b, _, err := Header(p)
	if err != nil {
		return nil, err
	}
	if b != IDOf(base) {
		return nil, ErrBase
	}
	return apply(dst, base, p)
}

// ApplyChain applies the patches in order to base: each must have been
// made against the result of the one before. base is read, never written;
// the results go to two buffers used in turn.
func ApplyChain(base []byte, patches [][]byte) ([]byte, error) {
	if len(patches) == 0 {
		return base, nil
	}
	cur, curID := base, IDOf(base)
	var bufs [2][]byte
	for i, p := range patches {
		b, res, err := Header(p)
		if err != nil {
			return nil, fmt.Errorf("%w (patch %d of %d)", err, i+1, len(patches))
		}
		if b != curID {
			return nil, fmt.Errorf("%w (patch %d of %d)", ErrBase, i+1, len(patches))
		}
		out, err := apply(bufs[i%2], cur, p)
		if err != nil {
			return nil, fmt.Errorf("%w (patch %d of %d)", err, i+1, len(patches))
		}
		bufs[i%2], cur, curID = out, out, res
	}
	return cur, nil
}

func apply(dst, base, p []byte) ([]byte, error) {
	r := reader{b: p[2:]}
	r.id()
	res := r.id()
	if r.err != nil || res.Len < 0 {
		return nil, ErrPatch
	}
	// The header's length is not trusted for the allocation: a result
	// longer than the base and the patch together can only come from
	// copying base bytes more than once, and append grows for that.
	if want := min(res.Len, len(base)+len(p)); cap(dst) < want {
		dst = make([]byte, 0, want)
	}
	out := dst[:0]
	for len(r.b) > 0 && r.err == nil {
		tag := r.num()
		n := int(tag >> 1)
		if r.err != nil || tag>>1 > uint64(res.Len) || len(out)+n > res.Len {
			return nil, ErrPatch
		}
		if tag&1 == 1 {
			src := r.num()
			if r.err != nil || src > uint64(len(base)) || uint64(n) > uint64(len(base))-src {
				return nil, ErrPatch
			}
			out = append(out, base[src:int(src)+n]...)
			continue
		}
		if n > len(r.b) {
			return nil, ErrPatch
		}
		out = append(out, r.b[:n]...)
		r.b = r.b[n:]
	}
	if r.err != nil || len(out) != res.Len || xxhash.Sum64(out) != res.Sum {
		return nil, ErrPatch
	}
	return out, nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) num() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = ErrPatch
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) id() ID {
	n := r.num()
	if r.err != nil || len(r.b) < 8 || n > 1<<40 {
		r.err = ErrPatch
		return ID{}
	}
	s := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return ID{Len: int(n), Sum: s}
}
