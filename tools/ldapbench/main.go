// Command ldapbench reads a full Snapshot from an LDAP server with the LDAP
// source and prints how long it took and the process's peak RSS. It is the
// Go half of scripts/bench-ldap.sh.
//
//	ldapbench -url ldap://127.0.0.1:20389 -bind-dn cn=sync,dc=example,dc=org -password sync
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/sources/ldap"
)

func main() {
	url := flag.String("url", "ldap://127.0.0.1:20389", "server URL")
	bindDN := flag.String("bind-dn", "cn=sync,dc=example,dc=org", "bind DN")
	password := flag.String("password", "sync", "bind password")
	suffix := flag.String("suffix", "dc=example,dc=org", "directory suffix")
	pageSize := flag.Int("page-size", 1000, "page size")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}

	cfg := ldap.Config{
		URL: *url, BindDN: *bindDN, BindPassword: orgsync.Secret(*password), PageSize: *pageSize,
		User: ldap.UserConfig{
			BaseDN:         "ou=people," + *suffix,
			DisabledFilter: "(employeeType=disabled)",
		},
		Group: ldap.GroupConfig{BaseDN: "ou=groups," + *suffix, Nested: true},
	}
	src, err := ldap.New("bench", cfg, zerolog.New(os.Stderr).Level(zerolog.WarnLevel))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	start := time.Now()
	snap, err := src.Snapshot(context.Background())
	took := time.Since(start)
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	memberships := 0
	for _, g := range snap.Groups {
		memberships += len(g.Members)
	}
	fmt.Printf("users=%d groups=%d memberships=%d warnings=%d seconds=%.3f peak_rss_mb=%d\n",
		len(snap.Members), len(snap.Groups), memberships, len(snap.Warnings), took.Seconds(), peakRSS()/1024)
}

// peakRSS returns VmHWM from /proc/self/status in KiB, or 0.
func peakRSS() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	return 0
}
