"""Exports of a results folder to the tools researchers track experiments in (MLflow). Each target
is an optional extra; the results folder stays the source of truth."""
