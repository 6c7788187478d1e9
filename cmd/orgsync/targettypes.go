package main

import (
	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync/internal/registry"
	"github.com/orgsync/orgsync/targets"
)

// openTarget opens a configured target on the store it converges from.
type openTarget func(st targets.Store) (*targets.Target, error)

// targetTypes is every target type, registered as the source types are
// (sourceTypes): defaults, validation and opening go through it. A target
// entry is flat, its type picking a dialect of targets.Config, so each
// type is Inline.
var targetTypes = registry.New[targets.Config, openTarget]("target")

func init() {
	for _, typ := range []string{targets.TypeKMS, targets.TypeSCIM} {
		targetTypes.Register(typ, registry.Type[targets.Config, openTarget]{
			Inline: true,
			Block:  func(c *targets.Config) registry.Block { return c },
			Open: func(c *targets.Config, log zerolog.Logger) (openTarget, error) {
				return func(st targets.Store) (*targets.Target, error) { return c.Open(st, log) }, nil
			},
		})
	}
}
