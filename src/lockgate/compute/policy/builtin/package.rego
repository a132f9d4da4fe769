# The version has a signed package with an SBOM, when the tier requires one in this
# environment.
package lockgate.gates.package

import data.lockgate.requirements

retirement if input.request.kind == "retirement"

required if requirements.current.package == true

deny contains msg if {
	required
	not retirement
	not input.package.signed == true
	msg := sprintf("version %v has no signed package", [object.get(input, ["version", "number"], null)])
}

deny contains msg if {
	required
	not retirement
	not input.package.sbom == true
	msg := sprintf("version %v has no package SBOM", [object.get(input, ["version", "number"], null)])
}

deny contains "no package requirement for this environment (the tier's requirements are missing)" if {
	not is_boolean(requirements.current.package)
}
