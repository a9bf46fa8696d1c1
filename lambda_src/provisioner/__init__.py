"""The provisioning service: runs Pulumi (Automation API) to stand pipelines up and tear them down."""
