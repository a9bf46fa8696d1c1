"""Config-file trigger: an `mlops-config.json` uploaded to the assets bucket is a pipeline request."""
