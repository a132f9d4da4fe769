package lockgate.gates.order_test

import data.lockgate.gates.order
import data.lockgate.test.fixtures

deny_of(doc) := result if {
	result := order.deny with input.request as doc.request
		with input.environment as doc.environment
		with input.version as doc.version
}

promoted_to(environments) := fixtures.patched("version", {"promoted_to": environments})

test_promoted_to_the_previous_environment_passes if {
	count(deny_of(fixtures.document)) == 0
}

test_skipping_the_previous_environment_denies if {
	deny_of(promoted_to(["dev"])) == {"version 3 must be promoted to staging before production"}
}

test_being_in_the_previous_environment_now_is_not_enough if {
	# `environments` is where the version is now; `promoted_to` is what counts.
	doc := fixtures.patched("version", {"promoted_to": [], "environments": ["staging"]})
	count(deny_of(doc)) == 1
}

test_first_environment_has_no_previous if {
	doc := object.union(promoted_to([]), {"environment": fixtures.dev})
	count(deny_of(doc)) == 0
}

test_retirement_is_not_ordered if {
	doc := object.union(promoted_to([]), {"request": fixtures.retirement})
	count(deny_of(doc)) == 0
}

test_missing_history_denies if {
	doc := fixtures.document
	version := object.remove(doc.version, ["promoted_to"])
	deny := order.deny with input.request as doc.request
		with input.environment as doc.environment
		with input.version as version
	count(deny) == 1
}

test_message_survives_missing_fields if {
	doc := fixtures.document
	version := {"promoted_to": []}
	deny := order.deny with input.request as doc.request
		with input.environment as doc.environment
		with input.version as version
	deny == {"version null must be promoted to staging before production"}
}
