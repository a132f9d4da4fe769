package lockgate.gates.model_card_test

import data.lockgate.gates.model_card
import data.lockgate.test.fixtures

deny_of(doc) := result if {
	table := fixtures.requirements
	result := model_card.deny with input.request as doc.request
		with input.environment as doc.environment
		with input.model_card as doc.model_card
		with data.lockgate.requirements.environments as table
}

card(completeness, missing) := fixtures.patched("model_card", {"completeness": completeness, "missing": missing})

test_complete_card_passes if {
	count(deny_of(fixtures.document)) == 0
}

test_incomplete_card_denies_naming_what_is_missing if {
	deny_of(card(0.83, ["limitations", "fairness"])) == {"model card 83% complete, 100% required; missing: limitations, fairness"}
}

test_threshold_is_inclusive if {
	table := {"production": object.union(fixtures.on, {"model_card": 0.5})}
	doc := card(0.5, ["limitations"])
	deny := model_card.deny with input.request as doc.request
		with input.environment as doc.environment
		with input.model_card as doc.model_card
		with data.lockgate.requirements.environments as table
	count(deny) == 0
}

test_not_required_in_dev if {
	doc := object.union(card(0, ["everything"]), {"environment": fixtures.dev})
	count(deny_of(doc)) == 0
}

test_not_required_for_retirement if {
	doc := object.union(card(0, []), {"request": fixtures.retirement})
	count(deny_of(doc)) == 0
}

test_missing_card_denies if {
	doc := fixtures.document
	table := fixtures.requirements
	deny := model_card.deny with input.request as doc.request
		with input.environment as doc.environment
		with data.lockgate.requirements.environments as table
	deny == {"model card 0% complete, 100% required; missing: "}
}
