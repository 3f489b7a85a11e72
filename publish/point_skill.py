"""Deploy step 4: point skill_package/skill.json at the deployed stacks.

    .venv/bin/python -m publish.point_skill

For each Alexa region (publish/privacy.toml: NA, EU, FE) it asks CloudFormation, in that
region's AWS region, for the outputs of the stack its samconfig.toml environment deploys,
and writes:

- the endpoint of the skill's requests and of its skill events: North America's alias as
  the default, and each other region's alias under ``regions`` (Alexa sends a user's
  requests, and the SkillDisabled that deletes their records, to their own region's
  function, which keeps its own table);
- the store icons, and the privacy policy and terms of use, at the North America stack's
  CloudFront address (publish/site.py), for every locale.

Nothing else in the file changes. Run it after every stack is deployed and `make site` has
uploaded the pages (docs/deploy.md), then `ask deploy`. The endpoints are your account's:
leave the rewritten skill.json out of commits. The deploying user needs
cloudformation:DescribeStacks in the three regions.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import images, legal, site

ROOT = Path(__file__).resolve().parent.parent
SKILL_JSON = ROOT / "skill_package" / "skill.json"
SAMCONFIG = ROOT / "samconfig.toml"
ALIAS_OUTPUT = "SkillFunctionAliasArn"
BASE_OUTPUT = "AudioBaseUrl"
DEFAULT_REGION = "NA"  # the endpoint Alexa uses for any region without one of its own

Outputs = Callable[[str, str], dict[str, str]]  # (AWS region, stack name) -> output name -> value


def stacks(samconfig: Path = SAMCONFIG) -> dict[str, tuple[str, str]]:
    """Alexa region -> (AWS region, stack name), from each region's samconfig.toml environment."""
    config = tomllib.loads(samconfig.read_text(encoding="utf-8"))
    found: dict[str, tuple[str, str]] = {}
    for region in legal.load()["region"]:
        env = config[region["config_env"]]
        found[region["alexa"]] = (
            env["deploy"]["parameters"]["region"],
            env["global"]["parameters"]["stack_name"],
        )
    return found


def cloudformation_outputs(aws_region: str, stack: str) -> dict[str, str]:
    """A stack's outputs, through boto3 with the deploying user's credentials."""
    import boto3  # noqa: PLC0415 - the deploy tooling's, not the function's

    described = boto3.client("cloudformation", region_name=aws_region).describe_stacks(StackName=stack)
    return {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0].get("Outputs", [])}


def alias_arn(outputs: dict[str, str], aws_region: str, alexa_region: str) -> str:
    """The stack's alias ARN, checked: a live alias of a function in that AWS region."""
    arn = outputs.get(ALIAS_OUTPUT, "")
    parts = arn.split(":")
    if (
        len(parts) != 8
        or parts[:3] != ["arn", "aws", "lambda"]
        or parts[3] != aws_region
        or parts[7] != "live"
    ):
        raise SystemExit(
            f"{alexa_region}: the stack in {aws_region} gives no live alias ARN ({arn or 'none'})"
        )
    return arn


def point(manifest: dict[str, Any], endpoints: dict[str, str], base: str) -> dict[str, Any]:
    """``manifest`` (skill.json's content) with the endpoints, icon and page URLs written."""
    body = manifest["manifest"]
    others = {
        region: {"endpoint": {"uri": uri}} for region, uri in endpoints.items() if region != DEFAULT_REGION
    }
    for api in (body["apis"]["custom"], body["events"]):
        api["endpoint"] = {"uri": endpoints[DEFAULT_REGION]}
        if others:
            api["regions"] = others
    for locale in body["publishingInformation"]["locales"].values():
        locale["smallIconUri"] = site.url(base, images.ICON_SMALL.path)
        locale["largeIconUri"] = site.url(base, images.ICON_LARGE.path)
    for locale in body["privacyAndCompliance"]["locales"].values():
        locale["privacyPolicyUrl"] = site.url(base, site.PRIVACY)
        locale["termsOfUseUrl"] = site.url(base, site.TERMS)
    return manifest


def main(argv: list[str] | None = None, outputs: Outputs = cloudformation_outputs) -> int:
    parser = argparse.ArgumentParser(prog="python -m publish.point_skill", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--skill-json", type=Path, default=SKILL_JSON)
    parser.add_argument("--samconfig", type=Path, default=SAMCONFIG)
    args = parser.parse_args(argv)
    endpoints: dict[str, str] = {}
    base = ""
    for alexa_region, (aws_region, stack) in stacks(args.samconfig).items():
        found = outputs(aws_region, stack)
        endpoints[alexa_region] = alias_arn(found, aws_region, alexa_region)
        if alexa_region == DEFAULT_REGION:
            base = found.get(BASE_OUTPUT, "")
    if not base.startswith("https://") or not base.endswith("/"):
        raise SystemExit(f"the {DEFAULT_REGION} stack gives no {BASE_OUTPUT} (https://.../): {base!r}")
    manifest = point(json.loads(args.skill_json.read_text(encoding="utf-8")), endpoints, base)
    args.skill_json.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for region, uri in endpoints.items():
        print(f"{region}: {uri}")
    print(f"icons and pages: {site.url(base, '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
