package lockgate.gates.approvals_test

import data.lockgate.gates.approvals
import data.lockgate.test.fixtures

deny_of(doc) := result if {
	table := fixtures.requirements
	result := approvals.deny with input.request as doc.request
		with input.environment as doc.environment
		with input.version as doc.version
		with input.approvals as doc.approvals
		with data.lockgate.requirements.environments as table
}

with_approvals(reviewers) := object.union(fixtures.document, {"approvals": [{"reviewer": r} | some r in reviewers]})

short(have) := {sprintf("%d of 2 required approvals (distinct reviewers, neither the requester nor the author)", [have])}

test_two_distinct_reviewers_pass if {
	count(deny_of(with_approvals(["user:carol", "user:dave"]))) == 0
}

test_one_reviewer_is_not_enough if {
	deny_of(with_approvals(["user:carol"])) == short(1)
}

test_a_reviewer_counts_once if {
	deny_of(with_approvals(["user:carol", "user:carol"])) == short(1)
}

test_requester_and_author_do_not_count if {
	deny_of(with_approvals(["user:alice", "user:bob", "user:carol"])) == short(1)
}

test_no_approvals_needed_in_dev if {
	doc := object.union(with_approvals([]), {"environment": fixtures.dev})
	count(deny_of(doc)) == 0
}

test_unnamed_environment_gets_production_requirements if {
	doc := object.union(with_approvals(["user:carol"]), {"environment": fixtures.qa})
	deny_of(doc) == short(1)
}

test_retirement_needs_the_same_approvals if {
	doc := object.union(with_approvals(["user:carol"]), {"request": fixtures.retirement})
	deny_of(doc) == short(1)
}

test_missing_approvals_deny if {
	doc := fixtures.document
	table := fixtures.requirements
	deny := approvals.deny with input.request as doc.request
		with input.environment as doc.environment
		with input.version as doc.version
		with data.lockgate.requirements.environments as table
	deny == short(0)
}

test_missing_requirements_deny if {
	doc := fixtures.document
	deny := approvals.deny with input.request as doc.request
		with input.environment as doc.environment
		with input.version as doc.version
		with input.approvals as doc.approvals
		with data.lockgate.requirements.environments as {}
	deny == {"no approval requirement for this environment (the tier's requirements are missing)"}
}
