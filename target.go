package orgsync

// Link kinds of a TargetLink.
const (
	LinkMember = "member"
	LinkGroup  = "group"
)

// TargetLink ties one of orgsync's members or groups (LocalID) to the
// resource standing for it in a target (RemoteID: a KMS org-membership id
// or group id). Name is the userName or displayName the pair was made on;
// a lost link is rebuilt by matching it.
type TargetLink struct {
	Target   string `json:"target"`
	Org      string `json:"org"`
	Kind     string `json:"kind"`
	LocalID  string `json:"local_id"`
	RemoteID string `json:"remote_id"`
	Name     string `json:"name"`
}

// TargetActor is the event actor of the changes a target run makes in the
// store (the setup-status read-back): "target:NAME".
func TargetActor(name string) string { return "target:" + name }
