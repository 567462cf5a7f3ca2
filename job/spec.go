package job

// Key returns the built job's key: the job's own, with the name defaulted
// from the task's when the job had none (what Aurora's client sends). It is
// the zero Key for a Spec without a payload.
func (s Spec) Key() Key {
	p := s.Payload
	if p == nil {
		return Key{}
	}
	return Key{Cluster: p.Cluster, Role: p.Role, Environment: p.Environment, Name: p.Name}
}
