"""Re-create this suite's event files from a checkout of github.com/OpenLineage/OpenLineage.

    python tests/conformance/openlineage/make_suite.py GIT_DIR [COMMIT]

Copies the files listed in ``SOURCES`` (spec, client and integration test events), completes the
integrations' templates (placeholders such as ``${json-unit.any-string}`` and
``{{ any(result) }}``, missing ``runId``/``eventTime``/``producer``/``schemaURL``, a missing
job name or dataset namespace) with realistic, deterministic values, and writes the spec-invalid
envelopes derived from real events (``derived``). What was completed is listed in README.md.
Not run by the tests: the files it wrote are checked in.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
TIME = "2026-11-27T08:00:00.000Z"
SUITE = uuid.UUID("6f1c1d0e-3a1b-5c2d-8e4f-0a1b2c3d4e5f")
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.24.0/integration/"

# target in this folder: (source path in the OpenLineage repository, integration whose templates are completed)
SOURCES: dict[str, tuple[str, str]] = {
    "spec/example_full_event.json": ("spec/tests/example_full_event.json", ""),
    "client-python/example_full_event.json": ("client/python/tests/example_full_event.json", ""),
    "client-python/serde_example_run_event.json": ("client/python/tests/serde_example_run_event.json", ""),
    "client-python/serde_example_dataset_event.json": ("client/python/tests/serde_example_dataset_event.json", ""),
    "client-python/serde_example_job_event.json": ("client/python/tests/serde_example_job_event.json", ""),
    **{
        f"proxy-fluentd/{name}.json": (f"proxy/fluentd/events/{name}.json", "")
        for name in (
            "event_full",
            "event_simple",
            "event_no_run_id",
            "event_invalid_dataset_facet",
            "event_invalid_input_dataset_facet",
            "event_invalid_job_facet",
            "event_invalid_output_dataset_facet",
            "event_invalid_run_facet",
        )
    },
    **{
        f"flink/{name}.json": (f"integration/flink/flink1/src/test/resources/events/{name}.json", "flink")
        for name in ("expected_kafka", "expected_iceberg", "expected_jdbc", "expected_cassandra", "expected_failed")
    },
    "flink/flink2_expected_sql_kafka.json": (
        "integration/flink/flink2/src/test/resources/events/expected_sql_kafka.json",
        "flink",
    ),
    **{
        f"hive/{name}.json": (f"integration/hive/hive-openlineage-hook/integrations/container/{name}.json", "hive")
        for name in (
            "cllSimpleQueryMaskingStart",
            "cllSimpleQueryMaskingComplete",
            "cllCtasWithJoinsComplete",
            "cllMultiInsertsComplete",
            "cllSimpleQueryIndirectComplete",
            "cllPartitionedTableComplete",
        )
    },
    **{
        f"spark/{name}.json": (f"integration/spark/app/integrations/container/{name}.json", "spark")
        for name in (
            "pysparkCTASWithColumnLineageEnd",
            "pysparkKafkaWriteCompleteEvent",
            "pysparkHiveCompleteEvent",
            "columnLineageJDBCComplete",
            "pysparkDeltaMergeIntoCompleteEvent",
            "pysparkRddToCsvCompleteEvent",
            "applicationLevelCompleteApplication",
            "pysparkCLLEnd",
        )
    },
    "dbt/postgres_successful_run_ol_events.json": (
        "integration/common/tests/dbt/structured_logs/postgres/run/results/successful_run_ol_events.json",
        "dbt",
    ),
    "dbt/postgres_failed_run_ol_events.json": (
        "integration/common/tests/dbt/structured_logs/postgres/run/results/failed_run_ol_events.json",
        "dbt",
    ),
    "dbt/snowflake_seed_ol_events.json": (
        "integration/common/tests/dbt/structured_logs/snowflake/seed/results/seed_ol_events.json",
        "dbt",
    ),
}


def _placeholder(value: Any) -> bool:
    return isinstance(value, str) and ("${json-unit" in value or "{{" in value)


def _uid(*parts: str) -> str:
    return str(uuid.uuid5(SUITE, "/".join(parts)))


def _fill(node: Any, target: str, key: str = "") -> Any:
    """Placeholders inside facets: realistic values by key."""
    if isinstance(node, dict):
        out = {k: _fill(v, target, k) for k, v in node.items()}
        job = out.get("job")
        if isinstance(out.get("run"), dict) and isinstance(job, dict) and _placeholder(node["run"].get("runId")):
            out["run"]["runId"] = _uid(target, str(job.get("namespace")), str(job.get("name")))  # a parent facet
        return out
    if isinstance(node, list):
        return [_fill(v, target, key) for v in node]
    if not _placeholder(node):
        return node
    if key.endswith("Time") or key == "eventTime":
        return TIME
    if key == "runId":
        return _uid(target, "run")
    if "Version" in key or key == "version":
        return "1.24.0"
    if key.endswith(("Id", ".id")):  # Hive's queryId, sessionId and hive.query.id, Flink's jobId
        return _uid(target, key).replace("-", "")
    if key == "clientIp":
        return "172.18.0.5"
    return f"completed-{key or 'value'}"


def complete(event: dict[str, Any], target: str, integration: str) -> dict[str, Any]:
    """An integration's expected-event template as the integration really sends it."""
    e = _fill(event, target)
    job = e.setdefault("job", {})
    job.setdefault("namespace", "default")
    job.setdefault("name", Path(target).stem)
    run = e.setdefault("run", {})  # a Spark template leaves out the run it belongs to
    if "runId" not in run or run["runId"] == _uid(target, "run"):
        run["runId"] = _uid(target, job["namespace"], job["name"])
    if not isinstance(e.get("eventTime"), str) or e["eventTime"] == TIME:
        e["eventTime"] = TIME
    e.setdefault("producer", PRODUCER + integration)
    e.setdefault("schemaURL", SCHEMA_URL)
    for d in [*e.get("inputs", []), *e.get("outputs", [])]:
        d.setdefault("namespace", "postgresql://postgres:5432")  # the JDBC test's database
    return e


def _derived(base: dict[str, Any], change: Any) -> dict[str, Any]:
    e = copy.deepcopy(base)
    change(e)
    return e


def derived(events: dict[str, Any]) -> dict[str, Any]:
    """Events derived from real events of the suite: the Python client's examples with a UTC
    offset, and spec-invalid envelopes."""
    full = events["proxy-fluentd/event_full.json"]
    hive = events["hive/cllSimpleQueryMaskingComplete.json"]

    def drop(*path: str):  # type: ignore[no-untyped-def]
        def change(e: dict[str, Any]) -> None:
            node = e
            for key in path[:-1]:
                node = node[key]
            del node[path[-1]]

        return change

    def put(value: Any, *path: str | int):  # type: ignore[no-untyped-def]
        def change(e: Any) -> None:
            node = e
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value

        return change

    with_offset = {
        "eventTime": "2021-11-03T10:53:52.427343Z"
    }  # the client's examples, with the UTC offset RFC 3339 needs
    return {
        "client-python/serde_example_run_event_utc.json": {
            **events["client-python/serde_example_run_event.json"],
            **with_offset,
        },
        "client-python/serde_example_dataset_event_utc.json": {
            **events["client-python/serde_example_dataset_event.json"],
            **with_offset,
        },
        "client-python/serde_example_job_event_utc.json": {
            **events["client-python/serde_example_job_event.json"],
            **with_offset,
        },
        "invalid/event_time_yesterday.json": _derived(full, put("yesterday", "eventTime")),
        "invalid/event_time_space_separator.json": _derived(full, put("2020-12-28 19:51:01.641Z", "eventTime")),
        "invalid/run_id_placeholder.json": _derived(hive, put("{{ any(result) }}", "run", "runId")),
        "invalid/run_id_not_uuid.json": _derived(full, put("run-2020-12-28", "run", "runId")),
        "invalid/missing_producer.json": _derived(hive, drop("producer")),
        "invalid/missing_schema_url.json": _derived(full, drop("schemaURL")),
        "invalid/producer_not_uri.json": _derived(full, put("fluentd proxy test", "producer")),
        "invalid/schema_url_not_uri.json": _derived(full, put("OpenLineage.json#/$defs/RunEvent", "schemaURL")),
        "invalid/event_type_finished.json": _derived(full, put("FINISHED", "eventType")),
        "invalid/input_without_name.json": _derived(hive, drop("inputs", 0, "name")),  # type: ignore[arg-type]
        "invalid/job_without_namespace.json": _derived(hive, drop("job", "namespace")),
        "invalid/outputs_not_a_list.json": _derived(hive, lambda e: e.update(outputs=e["outputs"][0])),
        "invalid/dataset_event_without_event_time.json": _derived(
            {**events["client-python/serde_example_dataset_event.json"], **with_offset}, drop("eventTime")
        ),
        "invalid/list_with_one_bad_event.json": [full, _derived(hive, put("2020-12-28T19:51:01", "eventTime"))],
    }


# What the spec says of each file that breaks it: event number -> the JSON paths refused. Written
# by reading the spec (BaseEvent requires eventTime, producer and schemaURL; date-time is RFC 3339,
# which needs an offset; Run.runId is a uuid; eventType is an enum; Job and Dataset require
# namespace and name), not by running medgrade.
REFUSED: dict[str, dict[int, list[str]]] = {
    "client-python/serde_example_run_event.json": {1: ["$.eventTime"]},  # "2021-11-03T10:53:52.427343": no offset
    "client-python/serde_example_dataset_event.json": {1: ["$.eventTime"]},
    "client-python/serde_example_job_event.json": {1: ["$.eventTime"]},
    "proxy-fluentd/event_no_run_id.json": {1: ["$.run.runId"]},
    "invalid/event_time_yesterday.json": {1: ["$.eventTime"]},
    "invalid/event_time_space_separator.json": {1: ["$.eventTime"]},
    "invalid/run_id_placeholder.json": {1: ["$.run.runId"]},
    "invalid/run_id_not_uuid.json": {1: ["$.run.runId"]},
    "invalid/missing_producer.json": {1: ["$.producer"]},
    "invalid/missing_schema_url.json": {1: ["$.schemaURL"]},
    "invalid/producer_not_uri.json": {1: ["$.producer"]},
    "invalid/schema_url_not_uri.json": {1: ["$.schemaURL"]},
    "invalid/event_type_finished.json": {1: ["$.eventType"]},
    "invalid/input_without_name.json": {1: ["$.inputs[0].name"]},
    "invalid/job_without_namespace.json": {1: ["$.job.namespace"]},
    "invalid/outputs_not_a_list.json": {1: ["$.outputs"]},
    "invalid/dataset_event_without_event_time.json": {1: ["$.eventTime"]},
    "invalid/list_with_one_bad_event.json": {2: ["$.eventTime"]},  # the whole file is refused
}


def expectations(target: str, data: Any) -> dict[str, Any]:
    """The manifest entry of one file, by the spec's semantics: a run or job event's every output
    is derived from its every input (a dataset listed as both, as an in-place MERGE, is not derived
    from itself); a dataset event declares a dataset and derives nothing; run ids are the run
    events' ``run.runId``."""
    if target in REFUSED:
        return {"accepted": False, "refused": {str(n): paths for n, paths in REFUSED[target].items()}}
    edges: set[tuple[str, str]] = set()
    runs: set[str] = set()
    for e in data if isinstance(data, list) else [data]:
        if "run" in e:
            runs.add(e["run"]["runId"])
        if "dataset" in e and "run" not in e:
            continue
        names = [[f"{d['namespace']}/{d['name']}" for d in e.get(k) or []] for k in ("inputs", "outputs")]
        edges |= {(i, o) for o in names[1] for i in names[0] if i != o}
    return {"accepted": True, "edges": sorted(map(list, edges)), "runs": sorted(runs)}


def main(git_dir: str, commit: str = "HEAD") -> None:
    events: dict[str, Any] = {}
    for target, (source, integration) in SOURCES.items():
        text = subprocess.run(
            ["git", f"--git-dir={git_dir}", "show", f"{commit}:{source}"], capture_output=True, text=True, check=True
        ).stdout
        data = json.loads(text)
        if integration:
            data = (
                [complete(e, target, integration) for e in data]
                if isinstance(data, list)
                else complete(data, target, integration)
            )
            text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        events[target] = data
        (HERE / target).parent.mkdir(parents=True, exist_ok=True)
        (HERE / target).write_text(text, encoding="utf-8")
    for target, data in derived(events).items():
        events[target] = data
        (HERE / target).parent.mkdir(parents=True, exist_ok=True)
        (HERE / target).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    sha = subprocess.run(
        ["git", f"--git-dir={git_dir}", "rev-parse", commit], capture_output=True, text=True, check=True
    ).stdout.strip()
    manifest = {
        "source": "https://github.com/OpenLineage/OpenLineage",
        "commit": sha,
        "license": "Apache-2.0",
        "files": {target: expectations(target, events[target]) for target in sorted(events)},
    }
    (HERE / "expected.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:3])
