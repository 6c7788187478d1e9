package main

import (
	"os"
	"path/filepath"
)

// The config files tried, in order, when neither --config nor
// $ORGSYNC_CONFIG names one.
var configCandidates = []string{"orgsync.yaml", "/etc/orgsync/orgsync.yaml"}

// configChoice is which config file a command uses and why.
type configChoice struct {
	Path     string // "" for the built-in defaults
	Explicit bool   // named by --config or $ORGSYNC_CONFIG: it must exist
	From     string // "--config", "$ORGSYNC_CONFIG", "found", "defaults"
	// Others are the candidate files that exist but were not chosen.
	Others []string
}

// discoverConfig picks the config: --config, then $ORGSYNC_CONFIG, then the
// first of candidates that exists, else the built-in defaults.
func discoverConfig(flag, env string, candidates []string) configChoice {
	var c configChoice
	switch {
	case flag != "":
		c = configChoice{Path: flag, Explicit: true, From: "--config"}
	case env != "":
		c = configChoice{Path: env, Explicit: true, From: "$ORGSYNC_CONFIG"}
	}
	if flag != "" && env != "" && !samePath(flag, env) {
		c.Others = append(c.Others, env)
	}
	for _, p := range candidates {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			continue
		}
		switch {
		case c.From == "":
			c = configChoice{Path: p, From: "found"}
		case !samePath(p, c.Path):
			c.Others = append(c.Others, p)
		}
	}
	if c.From == "" {
		c.From = "defaults"
	}
	return c
}

func samePath(a, b string) bool {
	x, err1 := filepath.Abs(a)
	y, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && x == y
}
