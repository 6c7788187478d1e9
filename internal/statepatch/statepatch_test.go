package statepatch

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"
)

// edit returns a result made of base's records (fixed-size runs) with
// some changed, dropped or inserted, and the spans an encoder copying the
// unchanged records would report.
func edit(rng *rand.Rand, base []byte, rec int) ([]byte, []Span) {
	var res []byte
	var spans []Span
	for at := 0; at < len(base); at += rec {
		end := min(at+rec, len(base))
		switch rng.Intn(20) {
		case 0: // changed
			r := append([]byte(nil), base[at:end]...)
			r[rng.Intn(len(r))] ^= 0x5a
			res = append(res, r...)
		case 1: // dropped
		case 2: // a new record before this one, then this one
			res = append(res, randBytes(rng, rec)...)
			fallthrough
		default:
			spans = append(spans, Span{Dst: len(res), Src: at, N: end - at})
			res = append(res, base[at:end]...)
		}
	}
	return res, spans
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	rng.Read(b)
	return b
}

func TestBuildApply(t *testing.T) {
	for seed := int64(0); seed < 200; seed++ {
		rng := rand.New(rand.NewSource(seed))
		rec := 1 + rng.Intn(80)
		base := randBytes(rng, rng.Intn(20000))
		res, spans := edit(rng, base, rec)
		switch seed % 4 {
		case 1: // a span that does not hold is written literally
			if len(spans) > 0 {
				spans[rng.Intn(len(spans))].Src ^= 1
			}
		case 2: // no spans: all literal
			spans = nil
		}
		p := Build(base, res, spans)
		got, err := Apply(nil, base, p)
		if err != nil || !bytes.Equal(got, res) {
			t.Fatalf("seed %d: Apply: %v (equal %v)", seed, err, bytes.Equal(got, res))
		}
		if seed%4 == 0 && len(base) > 5000 && len(p) > len(res)/2 {
			t.Errorf("seed %d: patch of %d bytes for a result of %d mostly copied", seed, len(p), len(res))
		}
		b, r, err := Header(p)
		if err != nil || b != IDOf(base) || r != IDOf(res) {
			t.Fatalf("seed %d: Header %v %v %v", seed, b, r, err)
		}
	}
}

func TestPatchIsSmall(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	base := randBytes(rng, 1<<20)
	// One record of 64 in a hundred changes.
	res := append([]byte(nil), base...)
	var spans []Span
	last := 0
	for at := 0; at+64 <= len(res); at += 64 * 100 {
		res[at+10] ^= 1
		spans = append(spans, Span{Dst: last, Src: last, N: at - last})
		last = at + 64
	}
	spans = append(spans, Span{Dst: last, Src: last, N: len(res) - last})
	p := Build(base, res, spans)
	// 164 records of 64 bytes changed: the patch holds those and little
	// else (the spans extend over the unchanged bytes of each record).
	if len(p) > 164*(64+8)+64 {
		t.Fatalf("patch of %d bytes for 164 changed records", len(p))
	}
	if got, err := Apply(nil, base, p); err != nil || !bytes.Equal(got, res) {
		t.Fatalf("Apply: %v", err)
	}
}

func TestApplyChain(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	base := randBytes(rng, 30000)
	states := [][]byte{base}
	var patches [][]byte
	for i := 0; i < 9; i++ {
		res, spans := edit(rng, states[i], 50)
		patches = append(patches, Build(states[i], res, spans))
		states = append(states, res)
	}
	keep := append([]byte(nil), base...)
	for n := 0; n <= len(patches); n++ {
		got, err := ApplyChain(base, patches[:n])
		if err != nil || !bytes.Equal(got, states[n]) {
			t.Fatalf("chain of %d: %v", n, err)
		}
	}
	if !bytes.Equal(base, keep) {
		t.Fatal("ApplyChain wrote into the base")
	}
	// Out of order, or one missing: the next patch's base does not match.
	if _, err := ApplyChain(base, [][]byte{patches[0], patches[2]}); !errors.Is(err, ErrBase) {
		t.Fatalf("a patch missing: %v, want ErrBase", err)
	}
	if _, err := ApplyChain(states[1], patches); !errors.Is(err, ErrBase) {
		t.Fatalf("wrong base: %v, want ErrBase", err)
	}
}

func TestDamagedPatch(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	base := randBytes(rng, 5000)
	res, spans := edit(rng, base, 40)
	p := Build(base, res, spans)
	for i := 0; i < len(p); i++ {
		d := append([]byte(nil), p...)
		d[i] ^= 0x10
		got, err := Apply(nil, base, d)
		if err == nil {
			t.Fatalf("byte %d flipped: applied without error (equal to the result: %v)", i, bytes.Equal(got, res))
		}
		if !errors.Is(err, ErrPatch) && !errors.Is(err, ErrBase) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
	if _, err := Apply(nil, base, p[:len(p)-1]); err == nil {
		t.Fatal("a truncated patch applied")
	}
	if _, err := Apply(nil, base[1:], p); !errors.Is(err, ErrBase) {
		t.Fatalf("another base: %v", err)
	}
}

func FuzzApply(f *testing.F) {
	base := []byte("the base the patches are applied to, some forty bytes")
	res := []byte("the base the patches are applied to, some 40 bytes!")
	f.Add(Build(base, res, []Span{{0, 0, 40}}))
	f.Add([]byte{magic, layout})
	f.Fuzz(func(t *testing.T, p []byte) {
		got, err := Apply(nil, base, p)
		if err != nil {
			return
		}
		_, r, _ := Header(p)
		if IDOf(got) != r {
			t.Fatalf("applied to %d bytes that are not the result the patch names", len(got))
		}
	})
}
