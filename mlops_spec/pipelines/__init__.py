"""One module per family of pipeline requests; `mlops_spec.request` collects them."""
