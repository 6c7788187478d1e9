package reconciler

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

func TestSlotOfIsTheSameOnEveryReplica(t *testing.T) {
	tests := []struct {
		spec     string
		a, b     time.Time // two replicas firing the same occurrence
		sameSlot bool
	}{
		{"*/15 * * * *", at(14, 15, 0, 3), at(14, 15, 0, 900), true},
		{"*/15 * * * *", at(14, 15, 0, 3), at(14, 30, 0, 3), false},
		{"@every 10s", at(14, 0, 12, 0), at(14, 0, 19, 0), true},
		{"@every 10s", at(14, 0, 12, 0), at(14, 0, 21, 0), false},
		{"@hourly", at(14, 0, 0, 1), at(14, 0, 1, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			sched, err := cron.ParseStandard(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			slot := slotOf(sched)
			if got := slot(tt.a).Equal(slot(tt.b)); got != tt.sameSlot {
				t.Fatalf("slot(%s) = %s, slot(%s) = %s; same = %v, want %v", tt.a, slot(tt.a), tt.b, slot(tt.b), got, tt.sameSlot)
			}
		})
	}
}

func at(h, m, s, ms int) time.Time { return time.Date(2026, 11, 27, h, m, s, ms*1e6, time.UTC) }
