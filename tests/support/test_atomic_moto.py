"""The moto guard: a condition check and its write are one step, as in DynamoDB."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import table as moto_table

from tests.support import atomic_moto


@pytest.fixture
def slow_conditions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen moto's window between reading the current item and writing the new one to 50 ms."""
    parse = moto_table.get_filter_expression

    def slow_parse(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.05)
        return parse(*args, **kwargs)

    monkeypatch.setattr(moto_table, "get_filter_expression", slow_parse)


def test_the_guard_is_installed_for_every_test() -> None:
    assert atomic_moto.installed()


def test_two_conditional_creates_of_one_item_let_exactly_one_through(aws_credentials: None, slow_conditions: None):
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        )
        barrier = threading.Barrier(4)

        def create(writer: int) -> str:
            barrier.wait()
            try:
                client.put_item(
                    TableName="t",
                    Item={"k": {"S": "same"}, "writer": {"N": str(writer)}},
                    ConditionExpression="attribute_not_exists(k)",
                )
            except ClientError as error:
                return error.response["Error"]["Code"]
            return "written"

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(create, range(4)))

        assert sorted(results) == ["ConditionalCheckFailedException"] * 3 + ["written"]
        stored = client.get_item(TableName="t", Key={"k": {"S": "same"}})["Item"]
        assert results[int(stored["writer"]["N"])] == "written"
