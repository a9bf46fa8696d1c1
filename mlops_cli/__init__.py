"""The `mlops` command line: offline plans, request validation, and calls to a deployed orchestrator."""
