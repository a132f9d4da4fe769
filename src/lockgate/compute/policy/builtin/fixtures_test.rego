# Shared fixtures of the built-in gates' tests: an input document that passes every gate
# under `requirements`, a table that does not depend on any tier. Tests replace input fields
# one by one from a local document (`with input.request as doc.request`): replacing the whole
# input crashes rego-cpp 1.5, and a rule reference as a `with` value reads as undefined.
package lockgate.test.fixtures

request := {
	"id": "req-1",
	"kind": "promotion",
	"requested_by": "user:alice",
	"requested_at": "2026-12-01T10:00:00Z",
	"reason": "better recall",
}

retirement := object.union(request, {"kind": "retirement"})

dev := {"name": "dev", "order": 10, "previous": null}

staging := {"name": "staging", "order": 20, "previous": "dev"}

production := {"name": "production", "order": 30, "previous": "staging"}

# An environment the requirements table does not name.
qa := {"name": "qa", "order": 25, "previous": "staging"}

model := {
	"name": "churn",
	"project": "retail",
	"tier": "critical",
	"owner": "alice",
	"description": "Predicts churn within 30 days",
	"metadata": {"intended_use": "retention offers"},
	"monitor": "churn-drift",
}

version := {
	"number": 3,
	"author": "user:bob",
	"created_at": "2026-12-01T09:00:00Z",
	"run_id": "run-1",
	"description": "",
	"metadata": {},
	"has_signature": true,
	"environments": ["staging"],
	"promoted_to": ["dev", "staging"],
}

package := {"signed": true, "digest": "5f2b", "sbom": true}

passing_evaluation := {
	"verdict": "pass",
	"comparison_id": "cmp-1",
	"baseline_version": 2,
	"baseline_is_current": true,
	"reasons": [],
}

complete_card := {"completeness": 1.0, "missing": []}

off := {"approvals": 0, "evaluation": false, "model_card": 0, "monitor": false, "package": false, "metadata": []}

on := {
	"approvals": 2,
	"evaluation": true,
	"model_card": 1.0,
	"monitor": true,
	"package": true,
	"metadata": ["owner", "description", "intended_use"],
}

# Everything required in production, nothing in dev.
requirements := {"dev": off, "staging": object.union(on, {"approvals": 1}), "production": on}

# `document` with `fields` merged into its part `key`. (object.union is shallow in rego-cpp
# 1.5, where OPA's merges nested objects too.)
patched(key, fields) := object.union(document, {key: object.union(document[key], fields)})

# A document every gate lets through in production under `requirements`.
document := {
	"schema": 1,
	"request": request,
	"environment": production,
	"model": model,
	"version": version,
	"package": package,
	"evaluation": passing_evaluation,
	"data_validation": [],
	"model_card": complete_card,
	"approvals": [
		{"reviewer": "user:carol", "approved_at": "2026-12-01T11:00:00Z", "expires_at": "2026-12-08T11:00:00Z"},
		{"reviewer": "user:dave", "approved_at": "2026-12-01T12:00:00Z", "expires_at": "2026-12-08T12:00:00Z"},
	],
	"exceptions": [],
	"current": {"version": 2},
}
