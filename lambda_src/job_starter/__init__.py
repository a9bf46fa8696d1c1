"""The job starter: the Lambda function `pulumi up` invokes to start a pipeline's one-off job (see handler)."""
