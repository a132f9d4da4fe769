# Environments are ordered: a version enters an environment that has a previous one only after
# it was promoted into that previous environment. Retirements are not ordered.
package lockgate.gates.order

retirement if input.request.kind == "retirement"

deny contains msg if {
	not retirement
	previous := input.environment.previous
	previous != null
	not previous in input.version.promoted_to
	# object.get: a message built from a missing field would be undefined, and so no denial.
	msg := sprintf("version %v must be promoted to %v before %v", [
		object.get(input, ["version", "number"], null), previous,
		object.get(input, ["environment", "name"], null),
	])
}
