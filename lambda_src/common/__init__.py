"""Code shared by the orchestrator's light functions (API, trigger, status): settings, AWS clients, services."""
