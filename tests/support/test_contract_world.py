"""The contract test's seeded account: each operation gets the same seeded state, built or copied."""

from __future__ import annotations

from lambda_src.common import aws
from lambda_src.registry import Registry, Status
from tests.support.api_gateway import api_event, call
from tests.support.contract_world import CARDS, DRIFT, contract_world, seeded_pipeline_ids
from tests.support.moto_orchestrator import TABLE


def test_every_world_holds_the_seeds_and_nothing_the_last_one_added() -> None:
    # The first world of the process may be seeded through the API, the others are copies.
    for _ in range(3):
        with contract_world() as world:
            assert world.pipelines == seeded_pipeline_ids()
            registry = Registry(TABLE)
            statuses = [registry.get(pipeline_id).status for pipeline_id in world.pipelines]  # type: ignore[union-attr]
            assert statuses == [Status.QUEUED, Status.DEPLOYED, Status.AWAITING_APPROVAL]
            assert registry.get(world.pipelines[1]).drift == DRIFT  # type: ignore[union-attr]
            deployed, awaiting = (f"mlops-{pipeline_id}" for pipeline_id in world.pipelines[1:])
            assert world.delivery == {deployed: None, awaiting: "ApproveStaging"}
            cards = aws.client("sagemaker").list_model_cards()["ModelCardSummaries"]
            assert sorted(card["ModelCardName"] for card in cards) == sorted(CARDS)
            # Left behind for the next world to not see:
            assert call(api_event("POST", "/modelcards", {"name": "left-behind"})).status == 201
            assert call(api_event("DELETE", f"/pipelines/{world.pipelines[0]}")).status in (200, 202)
