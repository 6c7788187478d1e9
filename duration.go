package orgsync

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in config as text: a Go duration
// ("90s", "720h") or a whole number of days ("30d").
type Duration time.Duration

// ParseDuration reads a Go duration or a number of days ("30d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n >= 0 && n <= 100*365 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a value such as 30s, 720h or 30d", s)
	}
	return d, nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration the way UnmarshalText reads it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String prints whole days as "30d", anything else as a Go duration.
func (d Duration) String() string {
	td := time.Duration(d)
	if td > 0 && td%(24*time.Hour) == 0 {
		return strconv.Itoa(int(td/(24*time.Hour))) + "d"
	}
	return td.String()
}

// TimeDuration returns the value as a time.Duration.
func (d Duration) TimeDuration() time.Duration { return time.Duration(d) }
