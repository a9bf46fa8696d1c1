"""The OpenAPI 3.1 document of the orchestrator's API, and the committed text of openapi.json."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from mlops_spec.openapi.operations import paths
from mlops_spec.openapi.schemas import component_schemas

API_VERSION = "1.0.0"


def _security_schemes() -> dict[str, Any]:
    # API Gateway's IAM authorization: every request is signed with AWS Signature Version 4.
    return {
        "sigv4": {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "awsSigv4",
        }
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every route of the orchestrator's API."""
    # A copy: callers may edit their document, and building it again costs most of a second.
    return copy.deepcopy(_document())


@functools.cache
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MLOps pipeline orchestrator API",
            "version": API_VERSION,
            "description": "Ask for SageMaker pipelines (serving, batch, monitoring, training, image builds), "
            "follow them through dev, staging and prod, and manage model cards. Request fields keep the names "
            "of the AWS MLOps Workload Orchestrator.",
        },
        "security": [{"sigv4": []}],
        "paths": paths(),
        "components": {"schemas": component_schemas(), "securitySchemes": _security_schemes()},
    }


def render() -> str:
    """The committed text of openapi.json."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
