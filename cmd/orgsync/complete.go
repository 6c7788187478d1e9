package main

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// registerCompletions gives every --org and --source flag of the tree shell
// completion from the config's orgs and sources.
func (a *app) registerCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("org") != nil {
			a.completeOrgs(c, "org")
		}
		if c.Flags().Lookup("source") != nil {
			a.completeSources(c, "source")
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func (a *app) completeOrgs(c *cobra.Command, flag string) {
	_ = c.RegisterFlagCompletionFunc(flag, func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		cfg, err := a.config()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []cobra.Completion
		for _, o := range cfg.Orgs {
			out = append(out, cobra.CompletionWithDesc(o.ID, o.Name))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}

func (a *app) completeSources(c *cobra.Command, flag string) {
	_ = c.RegisterFlagCompletionFunc(flag, func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		cfg, err := a.config()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []cobra.Completion
		for _, s := range cfg.Sources {
			out = append(out, cobra.CompletionWithDesc(s.Name, s.Type+" source of org "+s.Org))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}

// orgNames and sourceNames list the configured names, for errors that
// name the valid choices.
func (l *Loaded) orgNames() string {
	var names []string
	for _, o := range l.Orgs {
		names = append(names, o.ID)
	}
	return validNames(names)
}

func (l *Loaded) sourceNames() string {
	var names []string
	for _, s := range l.Sources {
		names = append(names, s.Name)
	}
	return validNames(names)
}

func validNames(names []string) string {
	if len(names) == 0 {
		return "there are none"
	}
	sort.Strings(names)
	return "valid: " + strings.Join(names, ", ")
}
