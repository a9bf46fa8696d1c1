"""Typed contract of the orchestrator: pipeline requests and stack config.

Pure pydantic v2. It must import without pulumi or boto3 so the API Lambda stays
small; components, handlers and the CLI all build on it.
"""
