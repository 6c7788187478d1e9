package notify

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/orgsync/orgsync"
)

// The formats of a webhook's body.
const (
	FormatJSON  = "json"
	FormatSlack = "slack"
)

// The run outcomes a webhook can be told about.
const (
	OnBlocked = "blocked"
	OnFailed  = "failed"
	OnForced  = "forced"
)

// Config is one webhook (an entry of the top-level notifications list).
type Config struct {
	Name    string         `yaml:"name"`
	URL     orgsync.Secret `yaml:"url"`
	URLFile string         `yaml:"url_file"`
	Format  string         `yaml:"format"`
	// On lists the outcomes to send; default all of them.
	On []string `yaml:"on"`
	// Orgs limits the webhook to these orgs; default every org.
	Orgs    []string         `yaml:"orgs"`
	Timeout orgsync.Duration `yaml:"timeout"`
	// Attempts is how many times one notification is tried at most.
	Attempts int `yaml:"attempts"`
	// Backoff is the wait before the first retry; it doubles each time,
	// up to MaxBackoff.
	Backoff    orgsync.Duration `yaml:"backoff"`
	MaxBackoff orgsync.Duration `yaml:"max_backoff"`
}

// SetDefaults fills what is unset.
func (c *Config) SetDefaults() {
	if c.Format == "" {
		c.Format = FormatJSON
	}
	if len(c.On) == 0 {
		c.On = []string{OnBlocked, OnFailed, OnForced}
	}
	if c.Timeout == 0 {
		c.Timeout = orgsync.Duration(10 * time.Second)
	}
	if c.Attempts == 0 {
		c.Attempts = 6
	}
	if c.Backoff == 0 {
		c.Backoff = orgsync.Duration(2 * time.Second)
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = orgsync.Duration(5 * time.Minute)
	}
}

// Validate lists every problem of the webhook. The URL is a secret: it is
// read and checked by Open, which only the commands that notify call (an
// inline URL is checked here too).
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format+": %w", append(args, orgsync.ErrInvalid)...))
	}
	if c.Name == "" {
		add("name: required")
	}
	if c.URL != "" && c.URLFile != "" {
		add("url and url_file: set one")
	}
	if c.URL != "" {
		if err := checkURL(c.URL.Reveal()); err != nil {
			add("url: %v", err)
		}
	}
	if c.Format != FormatJSON && c.Format != FormatSlack {
		add("format: %q is not json or slack", c.Format)
	}
	for _, on := range c.On {
		if !slices.Contains([]string{OnBlocked, OnFailed, OnForced}, on) {
			add("on: %q is not blocked, failed or forced", on)
		}
	}
	if c.Timeout < 0 {
		add("timeout: negative")
	}
	if c.Attempts < 1 || c.Attempts > 100 {
		add("attempts: %d is not between 1 and 100", c.Attempts)
	}
	if c.Backoff < 0 || c.MaxBackoff < c.Backoff {
		add("backoff: must be >= 0 and at most max_backoff")
	}
	return errors.Join(errs...)
}

// checkURL refuses what is not an absolute http(s) URL. The message never
// repeats the URL: it is a secret.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return errors.New("not an absolute http or https URL")
	}
	return nil
}
