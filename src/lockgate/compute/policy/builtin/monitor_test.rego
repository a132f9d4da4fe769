package lockgate.gates.monitor_test

import data.lockgate.gates.monitor
import data.lockgate.test.fixtures

deny_of(doc) := result if {
	table := fixtures.requirements
	result := monitor.deny with input.request as doc.request
		with input.environment as doc.environment
		with input.model as doc.model
		with data.lockgate.requirements.environments as table
}

monitored(value) := fixtures.patched("model", {"monitor": value})

test_configured_monitor_passes if {
	count(deny_of(fixtures.document)) == 0
}

test_no_monitor_denies if {
	deny_of(monitored(null)) == {"model churn has no monitor configured"}
}

test_blank_monitor_denies if {
	count(deny_of(monitored("  "))) == 1
}

test_not_required_in_dev if {
	doc := object.union(monitored(null), {"environment": fixtures.dev})
	count(deny_of(doc)) == 0
}

test_not_required_for_retirement if {
	doc := object.union(monitored(null), {"request": fixtures.retirement})
	count(deny_of(doc)) == 0
}
