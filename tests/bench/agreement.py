"""Before measuring: both servers must give the same answers to a sample of the inputs.

The peer's query aliases its fields to the API's names. After its address list is spread
onto the API's three address fields and each person's relations (a set; the servers list
them in different orders) are sorted, the answers must be equal: the same persons in the
same order, names, addresses and relations.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.bench.servers import Server
from tests.bench.workloads import ADDRESS_FIELDS, WORKLOADS, Workload

SAMPLE = 25


class Disagreement(RuntimeError):
    """The servers answered differently, or one of them failed."""


def check_agreement(
    ours: Server, peer: Server, inputs: dict[str, list[dict[str, Any]]], sample: int = SAMPLE
) -> int:
    """Ask both servers ``sample`` inputs per workload; return how many were compared."""
    compared = 0
    with httpx.Client(timeout=60) as client:
        for name, variables in inputs.items():
            workload = WORKLOADS[name]
            for item in variables[:sample]:
                mine = _ask(client, ours, workload, item)
                theirs = _ask(client, peer, workload, item)
                if normalise(mine) != normalise(theirs):
                    raise Disagreement(_describe(name, item, mine, theirs))
                _check_shape(name, item, mine)
                compared += 1
    return compared


def _ask(client: httpx.Client, server: Server, workload: Workload, item: dict[str, Any]) -> Any:
    body = workload.body(server.dialect, item)
    response = client.post(server.url, json=body, headers=server.headers())
    if response.status_code != 200 or "errors" in response.json():
        raise Disagreement(
            f"{server.name} failed {workload.name} {json.dumps(item, ensure_ascii=False)}: "
            f"HTTP {response.status_code} {response.text[:500]}"
        )
    return response.json()["data"][workload.root]


def normalise(value: Any) -> Any:
    """The answer in the API's shape, every ``relations`` list sorted by (code, number)."""
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if not isinstance(value, dict):
        return value
    result = {key: normalise(item) for key, item in value.items()}
    if "addresses" in result:
        addresses = {address["kind"]: address for address in result.pop("addresses")}
        for kind, (field, names) in ADDRESS_FIELDS.items():
            address = addresses.get(kind)
            result[field] = None if address is None else {name: address[name] for name in names}
    relations = result.get("relations")
    if isinstance(relations, list):
        result["relations"] = sorted(
            relations, key=lambda relation: (relation["code"], relation["personnummer"])
        )
    return result


def _check_shape(name: str, item: dict[str, Any], answer: Any) -> None:
    """Guard the inputs: a page is 100 persons, a search finds someone, a person exists."""
    if name == "person":
        ok = answer is not None and bool(answer.get("relations"))
    elif name == "page":
        ok = len(answer["edges"]) == 100
    else:
        ok = 1 <= len(answer["edges"]) <= 25
    if not ok:
        raise Disagreement(
            f"{name} {json.dumps(item, ensure_ascii=False)} gave an unexpected answer: "
            f"{json.dumps(answer, ensure_ascii=False)[:500]}"
        )


def _describe(name: str, item: dict[str, Any], mine: Any, theirs: Any) -> str:
    ours_text = json.dumps(normalise(mine), ensure_ascii=False, sort_keys=True)
    peer_text = json.dumps(normalise(theirs), ensure_ascii=False, sort_keys=True)
    at = next(
        (i for i, (a, b) in enumerate(zip(ours_text, peer_text, strict=False)) if a != b),
        min(len(ours_text), len(peer_text)),
    )
    start = max(0, at - 200)
    return (
        f"The servers disagree on {name} {json.dumps(item, ensure_ascii=False)} "
        f"(first difference at character {at}):\n"
        f"  ours: …{ours_text[start : at + 300]}\n"
        f"  peer: …{peer_text[start : at + 300]}"
    )
