package main

import (
	"net/http"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync/store"
)

// mountSCIM serves the SCIM receiver at /scim/v2 and /api/v1/scim.
func mountSCIM(mux *http.ServeMux, st *store.Store, cfg *Loaded, log zerolog.Logger) {
	notYet := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "SCIM receiver not built yet", http.StatusNotImplemented)
	})
	mux.Handle("/scim/v2/", notYet)
	mux.Handle("/api/v1/scim/", notYet)
}
