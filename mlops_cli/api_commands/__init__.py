"""`mlops provision|status|list|delete|approve|reject|drift|reconcile`: the commands that drive the orchestrator.

One module per part of the job: `pipelines`, `approvals` and `drift` hold the commands, `options` the
command-line options they share, `calls` how a command reaches the API, `render` how answers look,
and `wait` the polling of `status --wait`. The API client (and boto3 behind it) is imported only
when a command runs, so listing the commands stays fast.
"""
