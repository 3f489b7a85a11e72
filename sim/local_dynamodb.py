"""DynamoDB without AWS: moto's server on 127.0.0.1, with the table template.yaml defines."""

from __future__ import annotations

import copy
import logging
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from .serving import serving

ROOT = Path(__file__).resolve().parent.parent
LOCAL_TABLE = "pelvic-ease-local-progress"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation's short-form tags (!Ref, !GetAtt, !Sub)."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        value = loader.construct_mapping(node)  # type: ignore[arg-type]
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tag)


_parsed: dict[str, tuple[str, dict[str, Any]]] = {}


def load_template() -> dict[str, Any]:
    """template.yaml as data. The file is read every time, but parsed only when its text
    changed (the YAML parse is 45 ms; the tests build a table from it for every test)."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    cached = _parsed.get("template.yaml")
    if cached is None or cached[0] != text:
        cached = (text, yaml.load(text, Loader=_CfnLoader))
        _parsed["template.yaml"] = cached
    return copy.deepcopy(cached[1])  # a caller may change its copy


def create_table_from_template(client: Any, table_name: str) -> None:
    """Create the progress table exactly as template.yaml defines it (keys, billing, TTL)."""
    props = load_template()["Resources"]["ProgressTable"]["Properties"]
    client.create_table(
        TableName=table_name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        BillingMode=props["BillingMode"],
    )
    ttl = props["TimeToLiveSpecification"]
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]},
    )


def child_environment(url: str, table: str = LOCAL_TABLE, **extra: str) -> dict[str, str]:
    """A minimal environment for a child process that runs the skill against ``url``:
    nothing inherited but PATH, so no real credentials or endpoint can leak in."""
    return {
        "PATH": os.environ["PATH"],
        "PROGRESS_TABLE": table,
        "AWS_ENDPOINT_URL_DYNAMODB": url,
        **FAKE_CREDENTIALS,
        **extra,
    }


@contextmanager
def moto_endpoint() -> Iterator[str]:
    """moto's server on a free loopback port, for as long as the block lasts; yields its URL.

    moto keeps its state per process, so every server in a process (and ``mock_aws``) sees
    the same tables; the server is reset when it starts."""
    # What moto's ThreadedMotoServer runs, on a loop that stops within 20 ms (sim/serving.py):
    # its own waits up to 0.5 s to see a stop.
    from moto.moto_server.werkzeug_app import (  # noqa: PLC0415
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server  # noqa: PLC0415

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per HTTP request
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    with serving(server, "moto-server"):
        url = f"http://127.0.0.1:{server.server_address[1]}"
        # start from an empty account
        reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()
        yield url


@contextmanager
def moto_server(table_name: str = LOCAL_TABLE) -> Iterator[str]:
    """Start moto's DynamoDB server on a free loopback port, create the table, yield the URL.

    While it runs, AWS_ENDPOINT_URL_DYNAMODB points boto3 at it, with throwaway credentials,
    so nothing can reach AWS. The environment is restored afterwards.
    """
    import boto3  # noqa: PLC0415

    saved = {key: os.environ.get(key) for key in [*FAKE_CREDENTIALS, "AWS_ENDPOINT_URL_DYNAMODB"]}
    try:
        with moto_endpoint() as url:
            os.environ.update(FAKE_CREDENTIALS, AWS_ENDPOINT_URL_DYNAMODB=url)
            create_table_from_template(boto3.client("dynamodb"), table_name)
            yield url
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value  # the same restore as local_skill.restore_env
