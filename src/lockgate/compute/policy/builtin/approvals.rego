# Enough approvals from distinct reviewers. The service passes only valid approvals (not
# expired, from eligible reviewers); this gate counts each reviewer once and never counts the
# requester or the version's author (separation of duties, checked again here).
package lockgate.gates.approvals

import data.lockgate.requirements

# Reviewers whose approval counts.
reviewers contains reviewer if {
	some approval in input.approvals
	reviewer := approval.reviewer
	is_string(reviewer)
	reviewer != input.request.requested_by
	reviewer != input.version.author
}

required := requirements.current.approvals

deny contains msg if {
	count(reviewers) < required
	msg := sprintf("%d of %d required approvals (distinct reviewers, neither the requester nor the author)", [
		count(reviewers), required,
	])
}

deny contains "no approval requirement for this environment (the tier's requirements are missing)" if {
	not is_number(required)
}
