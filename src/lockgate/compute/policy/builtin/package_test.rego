package lockgate.gates.package_test

import data.lockgate.gates["package"] as gate
import data.lockgate.test.fixtures

deny_of(doc) := result if {
	table := fixtures.requirements
	result := gate.deny with input.request as doc.request
		with input.environment as doc.environment
		with input.version as doc.version
		with input.package as doc.package
		with data.lockgate.requirements.environments as table
}

packaged(fields) := fixtures.patched("package", fields)

test_signed_package_with_sbom_passes if {
	count(deny_of(fixtures.document)) == 0
}

test_unsigned_package_denies if {
	deny_of(packaged({"signed": false})) == {"version 3 has no signed package"}
}

test_missing_sbom_denies if {
	deny_of(packaged({"sbom": false})) == {"version 3 has no package SBOM"}
}

test_no_package_denies_both if {
	count(deny_of(packaged({"signed": false, "digest": null, "sbom": false}))) == 2
}

test_not_required_in_dev if {
	doc := object.union(packaged({"signed": false, "sbom": false}), {"environment": fixtures.dev})
	count(deny_of(doc)) == 0
}
