package main

import (
	"net/http"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync/receiver"
	"github.com/orgsync/orgsync/store"
)

// scimPrefixes are where the SCIM receiver is served: the RFC-style base,
// and the path the KMS's own documentation gives IdPs.
var scimPrefixes = []string{"/scim/v2", "/api/v1/scim"}

// mountSCIM serves the SCIM receiver at every prefix, for the configured
// orgs only.
func mountSCIM(mux *http.ServeMux, st *store.Store, cfg *Loaded, log zerolog.Logger, onRequest func(receiver.Request)) {
	trusted := cfg.Server.trustedProxies()
	srv := receiver.New(scopedSCIM{st.SCIM(), cfg.configuredOrgs()}, log.With().Str("component", "scim").Logger(), receiver.Options{
		PublicURL:    cfg.Server.PublicURL,
		MaxBodyBytes: cfg.Server.MaxBodyBytes,
		ClientAddr:   clientAddr(trusted),
		OnRequest:    onRequest,
	})
	for _, p := range scimPrefixes {
		mux.Handle(p, srv.Mount(p))
		mux.Handle(p+"/", srv.Mount(p))
	}
}
