package nixrealis

import "github.com/paypal/gorealis/gen-go/apache/aurora"

// updateSettingsJSON writes JobUpdateSettings in the convention of
// configjson.go, as the oracle's golden files hold them.
func updateSettingsJSON(s *aurora.JobUpdateSettings) obj {
	o := obj{
		"updateGroupSize":            jint(s.UpdateGroupSize),
		"maxPerInstanceFailures":     jint(s.MaxPerInstanceFailures),
		"maxFailedInstances":         jint(s.MaxFailedInstances),
		"minWaitInInstanceRunningMs": jint(s.MinWaitInInstanceRunningMs),
		"rollbackOnFailure":          s.RollbackOnFailure,
		"waitForBatchCompletion":     s.WaitForBatchCompletion,
	}
	if s.UpdateOnlyTheseInstances != nil {
		rs := []any{}
		for _, r := range s.UpdateOnlyTheseInstances {
			rs = append(rs, obj{"first": jint(r.First), "last": jint(r.Last)})
		}
		o["updateOnlyTheseInstances"] = sortedSet(rs)
	}
	if s.BlockIfNoPulsesAfterMs != nil {
		o["blockIfNoPulsesAfterMs"] = jint(*s.BlockIfNoPulsesAfterMs)
	}
	if s.SlaAware != nil {
		o["slaAware"] = *s.SlaAware
	}
	if st := s.UpdateStrategy; st != nil {
		so := obj{}
		if q := st.QueueStrategy; q != nil {
			so["queueStrategy"] = obj{"groupSize": jint(q.GroupSize)}
		}
		if b := st.BatchStrategy; b != nil {
			so["batchStrategy"] = obj{"groupSize": jint(b.GroupSize), "autopauseAfterBatch": b.AutopauseAfterBatch}
		}
		if v := st.VarBatchStrategy; v != nil {
			sizes := []any{}
			for _, g := range v.GroupSizes {
				sizes = append(sizes, jint(g))
			}
			so["varBatchStrategy"] = obj{"groupSizes": sizes, "autopauseAfterBatch": v.AutopauseAfterBatch}
		}
		o["updateStrategy"] = so
	}
	return o
}
