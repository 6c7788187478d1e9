package reconciler

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orgsync/orgsync"
)

const src = "corp"

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// user builds a desired (source) member: key, user name, email user@x.
func desiredUser(key, userName string, mods ...func(*orgsync.Member)) orgsync.Member {
	m := orgsync.Member{
		ExternalID: key, UserName: userName,
		Emails:      []orgsync.Email{{Value: userName, Primary: true}},
		DisplayName: strings.ToUpper(key), Status: orgsync.StatusActive,
	}
	for _, f := range mods {
		f(&m)
	}
	return m
}

// member builds an observed member owned by owner, as the store holds it
// after a provision of desiredUser(key, userName).
func member(id, owner, key, userName string, status orgsync.Status, mods ...func(*orgsync.Member)) orgsync.Member {
	m := desiredUser(key, userName)
	m.ID, m.Owner, m.Status, m.Org, m.Role = id, owner, status, "acme", orgsync.RoleMember
	if status == orgsync.StatusDeprovisioned {
		at := t0
		m.DeprovisionedAt = &at
	}
	for _, f := range mods {
		f(&m)
	}
	return m
}

func disabled(m *orgsync.Member) { m.Status = orgsync.StatusDeprovisioned }

func role(r string) func(*orgsync.Member) { return func(m *orgsync.Member) { m.Role = r } }

func displayName(n string) func(*orgsync.Member) {
	return func(m *orgsync.Member) { m.DisplayName = n }
}

func email(e string) func(*orgsync.Member) {
	return func(m *orgsync.Member) { m.Emails = []orgsync.Email{{Value: e, Primary: true}} }
}

func setupDone(m *orgsync.Member) { at := t0; m.SetupCompletedAt = &at }

func group(key, name string, members []string, subgroups ...string) orgsync.Group {
	return orgsync.Group{ExternalID: key, DisplayName: name, Members: members, Subgroups: subgroups}
}

func ownedGroup(id, owner, key, name string, members ...string) orgsync.Group {
	return orgsync.Group{ID: id, Org: "acme", Owner: owner, ExternalID: key, DisplayName: name, Members: members}
}

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
