package reconciler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler/internal/fixture"
	"github.com/orgsync/orgsync/reconciler/reconcilertest"
)

const src = "corp"

// The builders live in internal/fixture, shared with the renderer's
// tests.
var (
	t0          = fixture.T0
	desiredUser = fixture.User
	member      = fixture.Member
	disabled    = fixture.Disabled
	role        = fixture.Role
	displayName = fixture.DisplayName
	email       = fixture.Email
	setupDone   = fixture.SetupDone
	group       = fixture.Group
	ownedGroup  = fixture.OwnedGroup
)

// planLines renders a plan compactly for comparisons.
func planLines(p orgsync.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		s := string(c.Action)
		if c.GroupName != "" {
			s += " " + c.GroupName
		}
		if c.UserName != "" {
			s += " " + c.UserName
		}
		for _, kv := range [][2]string{{"id", c.MemberID}, {"key", c.MemberKey}, {"gid", c.GroupID}, {"gkey", c.GroupKey}} {
			if kv[1] != "" {
				s += " " + kv[0] + "=" + kv[1]
			}
		}
		if c.Member != nil && c.Action != orgsync.ActionUpdate {
			s += fmt.Sprintf(" role=%s status=%s", c.Member.Role, c.Member.Status)
		}
		if len(c.Fields) > 0 {
			var fs []string
			for k, v := range c.Fields {
				fs = append(fs, fmt.Sprintf("%s:%s>%s", k, v.From, v.To))
			}
			slices.Sort(fs)
			s += " fields=" + strings.Join(fs, ",")
		}
		out = append(out, s)
	}
	for _, c := range p.Conflicts {
		out = append(out, fmt.Sprintf("conflict %s %s: %s", c.Key, c.UserName, c.Reason))
	}
	return out
}

// The in-memory fake the runs, scheduler and convergence tests use.
var _ Store = (*reconcilertest.Store)(nil)
