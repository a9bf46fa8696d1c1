"""Pulumi components of the orchestrator: environment baseline, orchestrator, delivery, pipelines."""
