# A monitor is configured for the model when the tier requires one in this environment.
package lockgate.gates.monitor

import data.lockgate.requirements

retirement if input.request.kind == "retirement"

required if requirements.current.monitor == true

configured if {
	is_string(input.model.monitor)
	trim_space(input.model.monitor) != ""
}

deny contains msg if {
	required
	not retirement
	not configured
	msg := sprintf("model %v has no monitor configured", [object.get(input, ["model", "name"], null)])
}

deny contains "no monitor requirement for this environment (the tier's requirements are missing)" if {
	not is_boolean(requirements.current.monitor)
}
