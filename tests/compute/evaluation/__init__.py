"""Tests of the evaluation engine (lockgate.compute.evaluation)."""
