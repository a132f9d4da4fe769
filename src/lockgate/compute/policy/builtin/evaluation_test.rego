package lockgate.gates.evaluation_test

import data.lockgate.gates.evaluation
import data.lockgate.test.fixtures

deny_of(doc) := result if {
	table := fixtures.requirements
	result := evaluation.deny with input.request as doc.request
		with input.environment as doc.environment
		with input.evaluation as doc.evaluation
		with data.lockgate.requirements.environments as table
}

evaluated(fields) := fixtures.patched("evaluation", fields)

test_passing_comparison_against_current_passes if {
	count(deny_of(fixtures.document)) == 0
}

test_failed_comparison_denies_with_its_reasons if {
	doc := evaluated({"verdict": "fail", "reasons": ["auc fell by 0.04", "recall fell"]})
	deny_of(doc) == {"comparison cmp-1 failed: auc fell by 0.04; recall fell"}
}

test_no_comparison_denies if {
	doc := evaluated({"verdict": null, "comparison_id": null, "baseline_version": null, "baseline_is_current": false})
	deny_of(doc) == {"no comparison against the current production version or the champion"}
}

test_stale_baseline_denies if {
	doc := evaluated({"baseline_version": 1, "baseline_is_current": false})
	deny_of(doc) == {"comparison cmp-1 is against version 1, not the current production version or the champion"}
}

test_unknown_verdict_denies if {
	deny_of(evaluated({"verdict": "maybe"})) == {"unknown evaluation verdict maybe"}
}

test_not_required_in_dev if {
	doc := object.union(evaluated({"verdict": "fail"}), {"environment": fixtures.dev})
	count(deny_of(doc)) == 0
}

test_not_required_for_retirement if {
	doc := object.union(evaluated({"verdict": "fail"}), {"request": fixtures.retirement})
	count(deny_of(doc)) == 0
}

test_missing_evaluation_denies if {
	doc := fixtures.document
	table := fixtures.requirements
	deny := evaluation.deny with input.request as doc.request
		with input.environment as doc.environment
		with data.lockgate.requirements.environments as table
	deny == {"no comparison against the current production version or the champion"}
}
