"""Check OpenLineage RunEvents (NDJSON, one per line) with the reference client's own models.

Usage: openlineage-check.py EVENTS.ndjson

Each event is rebuilt, strictly, from the classes of openlineage-python (event_v2.RunEvent, Run, Job,
InputDataset, OutputDataset, and the SQLJobFacet and ColumnLineageDatasetFacet facets): an unknown or missing
key is a TypeError, and the classes' validators check the runId (a UUID), the eventTime (ISO 8601 with a time)
and the eventType. Then each schemaURL sent must be the one the client declares for that class (the spec and
facet versions agree), every name a non-empty string, and the client's serialisation of the rebuilt event must
equal the event as sent (nothing dropped, renamed or retyped on the way). Prints one line per bad event and a
summary; exits 1 when any event is bad.
"""

import json
import sys
import uuid

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.generated.column_lineage_dataset import ColumnLineageDatasetFacet, Fields, InputField
from openlineage.client.generated.sql_job import SQLJobFacet
from openlineage.client.serde import Serde


def strip_empty(value):
    """The event without empty lists and objects: the client fills its defaults ([] and {}) in."""
    if isinstance(value, dict):
        out = {k: strip_empty(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in ({}, [], None)}
    if isinstance(value, list):
        return [strip_empty(v) for v in value]
    return value


def text(value, what):
    if not isinstance(value, str) or value == "":
        raise ValueError(f"{what} is not a non-empty string: {value!r}")
    return value


def facet_base(data, cls, what):
    data = dict(data)
    producer = text(data.pop("_producer"), f"{what}._producer")
    schema = data.pop("_schemaURL")
    if schema != cls._get_schema():
        raise ValueError(f"{what}._schemaURL {schema} is not the client's {cls._get_schema()}")
    return producer, data


def sql_facet(data):
    producer, rest = facet_base(data, SQLJobFacet, "job.facets.sql")
    text(rest["query"], "job.facets.sql.query")
    return SQLJobFacet(**rest, producer=producer)


def column_lineage(data, what):
    producer, rest = facet_base(data, ColumnLineageDatasetFacet, what)
    fields = {}
    for name, spec in rest.pop("fields").items():
        text(name, f"{what} field name")
        spec = dict(spec)
        inputs = [InputField(**f) for f in spec.pop("inputFields")]
        for f in inputs:
            text(f.namespace, f"{what}.{name} input namespace")
            text(f.name, f"{what}.{name} input name")
            text(f.field, f"{what}.{name} input field")
        fields[name] = Fields(inputFields=inputs, **spec)
    return ColumnLineageDatasetFacet(fields=fields, **rest, producer=producer)


def dataset(cls, data, what):
    data = dict(data)
    text(data["namespace"], f"{what}.namespace")
    text(data["name"], f"{what}.name")
    facets = dict(data.pop("facets", {}))
    built = {}
    if "columnLineage" in facets:
        built["columnLineage"] = column_lineage(facets.pop("columnLineage"), f"{what}.columnLineage")
    if facets:
        raise ValueError(f"{what} has facets this check does not know: {sorted(facets)}")
    return cls(**data, facets=built)


def run_event(data):
    data = dict(data)
    schema = data.pop("schemaURL")
    if schema != RunEvent._get_schema():
        raise ValueError(f"schemaURL {schema} is not the client's {RunEvent._get_schema()}")
    text(data["producer"], "producer")
    job = dict(data.pop("job"))
    job_facets = dict(job.pop("facets", {}))
    facets = {}
    if "sql" in job_facets:
        facets["sql"] = sql_facet(job_facets.pop("sql"))
    if job_facets:
        raise ValueError(f"job has facets this check does not know: {sorted(job_facets)}")
    text(job["namespace"], "job.namespace")
    text(job["name"], "job.name")
    event = RunEvent(
        eventType=RunState(data.pop("eventType")),
        eventTime=data.pop("eventTime"),
        producer=data.pop("producer"),
        run=Run(**data.pop("run")),
        job=Job(**job, facets=facets),
        inputs=[dataset(InputDataset, d, f"inputs[{i}]") for i, d in enumerate(data.pop("inputs"))],
        outputs=[dataset(OutputDataset, d, f"outputs[{i}]") for i, d in enumerate(data.pop("outputs"))],
        **data,
    )
    if uuid.UUID(event.run.runId).version != 7:
        raise ValueError(f"runId {event.run.runId} is not a UUID v7")
    return event


def main(path):
    bad = 0
    total = 0
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            total += 1
            try:
                sent = json.loads(line)
                event = run_event(sent)
                again = strip_empty(Serde.to_dict(event))
                if again != strip_empty(sent):
                    raise ValueError("the client's serialisation differs from the event sent")
            except Exception as error:  # noqa: BLE001 - every failure is reported, per event
                bad += 1
                print(f"{path}:{number}: {type(error).__name__}: {error}")
    print(f"{total} event(s), {bad} bad, checked with openlineage-python")
    return 1 if bad or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
