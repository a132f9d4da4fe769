package lockgate.requirements_test

import data.lockgate.requirements
import data.lockgate.test.fixtures

current_in(name) := result if {
	table := fixtures.requirements
	result := requirements.current with input.environment.name as name
		with data.lockgate.requirements.environments as table
}

test_named_environment_gets_its_own if {
	current_in("dev") == fixtures.off
}

test_unnamed_environment_gets_production if {
	current_in("qa") == fixtures.on
}

test_missing_environment_gets_production if {
	table := fixtures.requirements
	result := requirements.current with data.lockgate.requirements.environments as table
	result == fixtures.on
}
