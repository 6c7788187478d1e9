package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync/notify"
)

// A secret is read only by the commands that use it: `members list` opens
// the store, so it needs the database password, but no admin token or
// source credentials, whose ${VAR} may be unset and whose files may be
// absent where it runs. Each component reads its own secrets when it is
// opened (a source's Open, notify.Open, the store, serve's admin token),
// after requireSecrets has reported the variables that are not set. serve
// and `config validate` use them all: they load the config with every
// secret checked at once (checkSecrets), so serve refuses to start with
// the list of every secret missing, before anything runs.

// allSecretsCommands are the commands that check every secret as the
// config is loaded.
var allSecretsCommands = map[string]bool{"serve": true, "config validate": true}

// requireSecrets is the error of the secrets under these keys (a key and
// what is below it: "database", "sources[2]") whose ${VAR} is not set;
// nil when there are none.
func (l *Loaded) requireSecrets(keys ...string) error {
	var errs []error
	for _, u := range l.unset {
		for _, k := range keys {
			if u.Path == k || strings.HasPrefix(u.Path, k+".") || strings.HasPrefix(u.Path, k+"[") {
				errs = append(errs, fmt.Errorf("config: %s", u.Problem()))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// checkSecrets reads and checks every secret, as the commands that use them
// do: the error lists each that is unset, unreadable or unfit. The blocks
// that do not validate are skipped: their problems are listed already.
func (l *Loaded) checkSecrets() error {
	var errs []error
	for _, u := range l.unset {
		errs = append(errs, fmt.Errorf("config: %s", u.Problem()))
	}
	if l.requireSecrets("server.admin_token") == nil {
		if _, err := l.Server.adminToken(); err != nil {
			errs = append(errs, err)
		}
	}
	for i := range l.Sources {
		s := &l.Sources[i]
		if l.requireSecrets(fmt.Sprintf("sources[%d]", i)) != nil || sourceTypes.Validate(s.Type, s) != nil {
			continue
		}
		if _, err := sourceTypes.Open(s.Type, s, zerolog.Nop()); err != nil {
			for _, e := range flatten(err) {
				errs = append(errs, fmt.Errorf("%s: %w", s.key(i), e))
			}
		}
	}
	errs = append(errs, l.checkTargetSecrets()...)
	for i, h := range l.Notifications {
		if l.requireSecrets(fmt.Sprintf("notifications[%d]", i)) != nil || h.Validate() != nil {
			continue
		}
		if _, err := notify.Open([]notify.Config{h}, zerolog.Nop()); err != nil {
			errs = append(errs, fmt.Errorf("notifications[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}
