# Required metadata is present: `owner` and `description` of the model, and any other name
# as a non-empty entry of the version's or the model's metadata (e.g. `intended_use`).
package lockgate.gates.metadata

import data.lockgate.requirements

retirement if input.request.kind == "retirement"

non_empty(value) if {
	is_string(value)
	trim_space(value) != ""
}

non_empty(value) if {
	not is_string(value)
	value != null
}

present(field) if {
	field in {"owner", "description"}
	non_empty(input.model[field])
}

present(field) if {
	not field in {"owner", "description"}
	non_empty(input.version.metadata[field])
}

present(field) if {
	not field in {"owner", "description"}
	non_empty(input.model.metadata[field])
}

missing contains field if {
	some field in requirements.current.metadata
	not present(field)
}

deny contains msg if {
	not retirement
	count(missing) > 0
	msg := concat("", ["required metadata missing: ", concat(", ", sort(missing))])
}

deny contains "no metadata requirement for this environment (the tier's requirements are missing)" if {
	not is_array(requirements.current.metadata)
}
