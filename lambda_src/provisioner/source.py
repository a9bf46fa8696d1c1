"""A pipeline's stored request: where it lives in the assets bucket, how it is read back, and its source zip."""

from __future__ import annotations

import io
import json
import zipfile
from typing import TYPE_CHECKING, Any

from lambda_src.provisioner.errors import SpecUnavailable
from mlops_spec import naming

if TYPE_CHECKING:
    from mlops_spec.base import PipelineSpec

# Where the request and the delivery source live: mlops_spec/naming.py (the API writes the spec there).
SPEC_FILE = naming.SPEC_FILE
spec_key = naming.spec_key
source_key = naming.source_key


def spec_url(bucket: str, pipeline_id: str) -> str:
    """Where the stored request is, as error messages name it."""
    return f"s3://{bucket}/{spec_key(pipeline_id)}"


def read_stored_spec(s3: Any, bucket: str, pipeline_id: str) -> bytes:
    """The stored request's bytes, as the API wrote them; S3's errors are left to the caller."""
    return bytes(s3.get_object(Bucket=bucket, Key=spec_key(pipeline_id))["Body"].read())


def source_zip(spec_json: bytes) -> bytes:
    """A zip holding only spec.json, with a fixed timestamp so equal specs give equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(SPEC_FILE, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        archive.writestr(info, spec_json)
    return buffer.getvalue()


def spec_from_zip(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(SPEC_FILE)


def parse_spec(raw: bytes | str, pipeline_id: str, mode: str, use_model_registry: bool) -> PipelineSpec:
    """The stored request, validated again (the spec layer may be newer than the request)."""
    from mlops_spec.errors import SpecError
    from mlops_spec.request import parse_pipeline_request

    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SpecUnavailable(f"the stored request of {pipeline_id} is not JSON: {exc}") from None
    try:
        spec = parse_pipeline_request(body, mode=mode, use_model_registry=use_model_registry)  # type: ignore[arg-type]
    except SpecError as exc:
        raise SpecUnavailable(f"the stored request of {pipeline_id} no longer validates: {exc}") from None
    if spec.pipeline_id != pipeline_id:
        raise SpecUnavailable(f"the stored request belongs to {spec.pipeline_id}, not {pipeline_id}")
    return spec
