"""Pulumi program: the orchestrator's, from the installed package (a project of your own needs these lines only)."""

from mlops_cli.program import run

run()
