"""Service Quotas as the quota preflight reads it (moto implements no ListServiceQuotas): the applied
values of one account's SageMaker quotas, or a refusal to read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeServiceQuotas:
    applied: dict[str, int] = field(default_factory=dict)
    refusal: Exception | None = None
    reads: int = 0

    def get_paginator(self, operation: str) -> Any:
        quotas = self.applied if operation == "list_service_quotas" else {}
        fake = self

        class Paginator:
            def paginate(self, ServiceCode: str) -> list[dict[str, Any]]:
                assert ServiceCode == "sagemaker"
                fake.reads += 1
                if fake.refusal is not None:
                    raise fake.refusal
                return [{"Quotas": [{"QuotaName": name, "Value": float(value)} for name, value in quotas.items()]}]

        return Paginator()


def access_denied() -> Exception:
    error = Exception("not authorized to perform servicequotas:ListServiceQuotas")
    error.response = {"Error": {"Code": "AccessDeniedException"}}  # type: ignore[attr-defined]
    return error
