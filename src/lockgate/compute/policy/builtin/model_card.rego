# The model card is at least as complete as the tier requires in this environment.
package lockgate.gates.model_card

import data.lockgate.requirements

retirement if input.request.kind == "retirement"

threshold := requirements.current.model_card

complete_enough if input.model_card.completeness >= threshold

deny contains msg if {
	threshold > 0
	not retirement
	not complete_enough
	missing := object.get(input, ["model_card", "missing"], [])
	# concat, not sprintf: rego-cpp 1.5 quotes a concat() result passed to sprintf's %s.
	msg := concat("", [
		sprintf("model card %.0f%% complete, %.0f%% required; missing: ", [
			100 * object.get(input, ["model_card", "completeness"], 0),
			100 * threshold,
		]),
		concat(", ", missing),
	])
}

deny contains "no model card requirement for this environment (the tier's requirements are missing)" if {
	not is_number(threshold)
}
