# The requirements a tier sets for the request's environment. The tier's table itself
# (`tier`, `environments`) is another module of this package, generated from
# requirements.json for the model's tier by `builtin_modules(tier)`.
package lockgate.requirements

# The environment whose requirements apply to an environment the table does not name: the
# strictest one.
fallback := "production"

# The requirements for the request's environment.
current := environments[input.environment.name] if {
	input.environment.name in object.keys(environments)
} else := environments[fallback]
