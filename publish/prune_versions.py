"""Delete the function's old published versions, after a deploy.

    .venv/bin/python -m publish.prune_versions                  every region's stack
    .venv/bin/python -m publish.prune_versions --region EU      one (NA, EU or FE)

Each `sam deploy` publishes a version (AutoPublishAlias), and SAM keeps every old one
(DeletionPolicy Retain). With SnapStart each version's snapshot stays cached, and billed,
until it has gone 14 days unused: about $0.91 a deploy at 512 MB. This keeps the version the
alias `live` points at, the one before it (to roll back to: `aws lambda update-alias
--function-version`), any version an alias names and any newer than live (a deploy under
way), and deletes the others. The deploying user needs lambda:ListVersionsByFunction,
lambda:ListAliases and lambda:DeleteFunction on the function, and
cloudformation:DescribeStacks.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from . import point_skill

ALIAS = "live"


def doomed(versions: list[str], aliased: dict[str, str]) -> list[str]:
    """The versions to delete, oldest first: every numbered version older than the one before
    the live alias's, except those an alias names. ``aliased``: alias name -> version."""
    live = int(aliased[ALIAS])
    older = sorted(int(v) for v in versions if v.isdigit() and int(v) < live)
    kept = set(aliased.values()) | {str(v) for v in older[-1:]}
    return [str(v) for v in older if str(v) not in kept]


def prune(client: Any, function: str) -> tuple[list[str], list[str]]:
    """Delete a function's old versions; (deleted, kept)."""
    pages = client.get_paginator("list_versions_by_function").paginate(FunctionName=function)
    versions = [v["Version"] for page in pages for v in page["Versions"]]
    pages = client.get_paginator("list_aliases").paginate(FunctionName=function)
    aliased = {a["Name"]: a["FunctionVersion"] for page in pages for a in page["Aliases"]}
    if ALIAS not in aliased:
        raise SystemExit(f"{function} has no alias {ALIAS!r}: nothing is deleted")
    deleting = doomed(versions, aliased)
    for version in deleting:
        client.delete_function(FunctionName=function, Qualifier=version)
    return deleting, [v for v in versions if v.isdigit() and v not in deleting]


def lambda_client(aws_region: str) -> Any:
    import boto3  # noqa: PLC0415 - the deploy tooling's, not the function's

    return boto3.client("lambda", region_name=aws_region)


def main(
    argv: list[str] | None = None,
    outputs: point_skill.Outputs = point_skill.cloudformation_outputs,
    clients: Callable[[str], Any] = lambda_client,
) -> int:
    parser = argparse.ArgumentParser(prog="python -m publish.prune_versions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    regions = point_skill.stacks()
    parser.add_argument(
        "--region", choices=sorted(regions), action="append", help="only this Alexa region's stack"
    )
    args = parser.parse_args(argv)
    for alexa_region in args.region or regions:
        aws_region, stack = regions[alexa_region]
        arn = point_skill.alias_arn(outputs(aws_region, stack), aws_region, alexa_region)
        function = arn.split(":")[6]
        deleted, kept = prune(clients(aws_region), function)
        gone = ", ".join(deleted) or "none"
        print(f"{alexa_region} ({aws_region}) {function}: deleted {gone}; kept {', '.join(kept)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
