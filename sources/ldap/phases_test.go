package ldap

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestPhases: each step is timed from the end of the one before, a step
// marked twice adds up, and a read that never started marks nothing.
func TestPhases(t *testing.T) {
	var p phases
	p.mark("ignored") // not started: nothing
	p.start(time.Now().Add(-30 * time.Millisecond))
	p.mark("connect")
	time.Sleep(5 * time.Millisecond)
	p.mark("search")
	time.Sleep(5 * time.Millisecond)
	p.mark("search")
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	log.Info().Dict("phases", p.dict()).Msg("")
	var got struct{ Phases map[string]float64 }
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Phases) != 2 || got.Phases["connect"] < 30 || got.Phases["search"] < 10 {
		t.Fatalf("phases logged: %v (want connect >= 30 ms, search >= 10 ms, nothing else)", got.Phases)
	}
}
