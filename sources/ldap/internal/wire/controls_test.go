package wire

import (
	"net"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
)

// TestSearchControls: controls of the request go out after the
// paged-results control, with their criticality, and without paging too.
func TestSearchControls(t *testing.T) {
	showDeleted := goldap.NewControlString(goldap.ControlTypeMicrosoftShowDeleted, true, "")
	for _, tc := range []struct {
		name   string
		paging *Paging
		want   []string // OIDs, in order
	}{
		{"with paging", &Paging{Size: 10}, []string{goldap.ControlTypePaging, "1.2.840.113556.1.4.417"}},
		{"alone", nil, []string{"1.2.840.113556.1.4.417"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startPeer(t, func(c net.Conn, id int64, req *ber.Packet) {
				c.Write(encodeMessage(id, resultOp(goldap.ApplicationSearchResultDone, 0, ""), goldap.NewControlPaging(0)))
			})
			c := p.dial(t, 4096)
			_, err := c.Search(ctx5s(t), SearchRequest{Base: "dc=x", Scope: goldap.ScopeWholeSubtree, Filter: "(isDeleted=TRUE)",
				Paging: tc.paging, Controls: []goldap.Control{showDeleted}}, func(*Entry) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			req := <-p.requests
			if len(req.Children) < 3 || len(req.Children[2].Children) != len(tc.want) {
				t.Fatalf("controls sent: %d packets", len(req.Children))
			}
			for i, oid := range tc.want {
				ctrl, err := goldap.DecodeControl(req.Children[2].Children[i])
				if err != nil || ctrl.GetControlType() != oid {
					t.Fatalf("control %d: %v %v, want %s", i, ctrl, err, oid)
				}
				raw := req.Children[2].Children[i].Children
				if oid == showDeleted.ControlType && (len(raw) < 2 || raw[1].Value != true) {
					t.Errorf("Show Deleted sent without criticality true: %d parts", len(raw))
				}
			}
		})
	}
}
