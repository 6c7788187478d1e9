package main

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

var errDone = fmt.Errorf("done")

type result struct {
	n, errors int
	firstErr  error
	elapsed   time.Duration
	lat       []time.Duration
}

// load runs fn from workers goroutines until d has passed (or fn returns
// errDone) and collects every latency.
func load(workers int, d time.Duration, fn func(*rand.Rand) error) result {
	var (
		mu  sync.Mutex
		res result
		wg  sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, seed*7919))
			var lat []time.Duration
			errs := 0
			var first error
			for time.Now().Before(deadline) {
				t := time.Now()
				err := fn(rng)
				if err == errDone {
					break
				}
				lat = append(lat, time.Since(t))
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
				}
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		}(uint64(w + 1))
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.n = len(res.lat)
	sort.Slice(res.lat, func(i, j int) bool { return res.lat[i] < res.lat[j] })
	return res
}

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
}

// report prints one load's figures and checks its targets (0: none).
func report(name string, r result, minRate float64, maxP99, maxMedian time.Duration) bool {
	rate := float64(r.n) / r.elapsed.Seconds()
	fmt.Printf("%-45s %7d req in %6.2fs = %8.0f req/s  p50 %7s  p90 %7s  p99 %7s  max %7s  errors %d\n",
		name, r.n, r.elapsed.Seconds(), rate, round(r.pct(0.50)), round(r.pct(0.90)), round(r.pct(0.99)), round(r.pct(1)), r.errors)
	ok := r.errors == 0 && r.n > 0
	if r.firstErr != nil {
		fmt.Printf("  first error: %v\n", r.firstErr)
	}
	check := func(what string, pass bool) {
		verdict := "ok"
		if !pass {
			verdict, ok = "MISSED", false
		}
		fmt.Printf("  target %-28s %s\n", what, verdict)
	}
	if minRate > 0 {
		check(fmt.Sprintf(">= %.0f req/s", minRate), rate >= minRate)
	}
	if maxP99 > 0 {
		check(fmt.Sprintf("p99 <= %s", maxP99), r.pct(0.99) <= maxP99)
	}
	if maxMedian > 0 {
		check(fmt.Sprintf("median <= %s", maxMedian), r.pct(0.50) <= maxMedian)
	}
	return ok
}

func round(d time.Duration) string {
	return d.Round(10 * time.Microsecond).String()
}
