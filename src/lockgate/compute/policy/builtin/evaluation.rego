# A passing comparison against the version currently in production (or the champion), when
# the tier requires one in this environment. The service decides which comparison is the
# relevant one and whether its baseline is the current version (`baseline_is_current`).
package lockgate.gates.evaluation

import data.lockgate.requirements

retirement if input.request.kind == "retirement"

required if requirements.current.evaluation == true

passing if {
	input.evaluation.verdict == "pass"
	input.evaluation.baseline_is_current == true
}

deny contains problem if {
	required
	not retirement
	not passing
}

problem := "no comparison against the current production version or the champion" if {
	object.get(input, ["evaluation", "verdict"], null) == null
} else := msg if {
	input.evaluation.verdict == "fail"
	# concat, not sprintf: rego-cpp 1.5 quotes a concat() result passed to sprintf's %s.
	msg := concat("", [
		sprintf("comparison %v failed: ", [object.get(input, ["evaluation", "comparison_id"], null)]),
		concat("; ", object.get(input, ["evaluation", "reasons"], [])),
	])
} else := msg if {
	input.evaluation.verdict == "pass"
	msg := sprintf("comparison %v is against version %v, not the current production version or the champion", [
		object.get(input, ["evaluation", "comparison_id"], null),
		object.get(input, ["evaluation", "baseline_version"], null),
	])
} else := sprintf("unknown evaluation verdict %v", [input.evaluation.verdict])

deny contains "no evaluation requirement for this environment (the tier's requirements are missing)" if {
	not is_boolean(requirements.current.evaluation)
}
