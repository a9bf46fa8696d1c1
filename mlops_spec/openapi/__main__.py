"""`python -m mlops_spec.openapi > openapi.json` regenerates the committed document."""

from mlops_spec.openapi.document import render

print(render(), end="")
