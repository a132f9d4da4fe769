package lockgate.gates.metadata_test

import data.lockgate.gates.metadata
import data.lockgate.test.fixtures

deny_of(doc) := result if {
	table := fixtures.requirements
	result := metadata.deny with input.request as doc.request
		with input.environment as doc.environment
		with input.model as doc.model
		with input.version as doc.version
		with data.lockgate.requirements.environments as table
}

test_complete_metadata_passes if {
	count(deny_of(fixtures.document)) == 0
}

test_missing_fields_are_named_in_order if {
	doc := fixtures.patched("model", {"description": " ", "metadata": {}})
	deny_of(doc) == {"required metadata missing: description, intended_use"}
}

test_version_metadata_counts if {
	version := object.union(fixtures.version, {"metadata": {"intended_use": "retention offers"}})
	doc := object.union(fixtures.patched("model", {"metadata": {}}), {"version": version})
	count(deny_of(doc)) == 0
}

test_null_entry_is_missing if {
	doc := fixtures.patched("model", {"metadata": {"intended_use": null}})
	deny_of(doc) == {"required metadata missing: intended_use"}
}

test_not_required_in_dev if {
	doc := object.union(fixtures.patched("model", {"owner": ""}), {"environment": fixtures.dev})
	count(deny_of(doc)) == 0
}

test_not_required_for_retirement if {
	doc := object.union(fixtures.patched("model", {"owner": ""}), {"request": fixtures.retirement})
	count(deny_of(doc)) == 0
}
