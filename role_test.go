package orgsync_test

import (
	"testing"

	"github.com/orgsync/orgsync"
)

func TestIsAdminRole(t *testing.T) {
	for role, want := range map[string]bool{"admin": true, "Admin": true, " admin ": true, "ADMIN\t": true,
		"": false, "member": false, "administrator": false, "ad min": false} {
		if got := orgsync.IsAdminRole(role); got != want {
			t.Errorf("IsAdminRole(%q) = %v, want %v", role, got, want)
		}
	}
}
