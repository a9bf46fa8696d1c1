"""The orchestrator's HTTP API (API Gateway REST, Lambda proxy). Light: never imports pulumi or boto3 eagerly."""
