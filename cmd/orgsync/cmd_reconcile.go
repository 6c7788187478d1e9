package main

import "github.com/spf13/cobra"

func (a *app) reconcileCommands() []*cobra.Command { return nil }
