"""Publishing: the icons and art, the legal pages and docs/storage.md from one source, the
site upload, deploy step 4 (every region's endpoint and the URLs into skill.json), the
pruning of old versions, and `make certify`."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import shutil
import subprocess
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_smapi_model.v1.skill.manifest.skill_manifest_envelope import SkillManifestEnvelope
from moto import mock_aws
from PIL import Image

from pelvic_ease import audio
from pelvic_ease.progress import Progress
from pelvic_ease.settings import Settings
from publish import certify, images, legal, point_skill, prune_versions, site
from sim.local_dynamodb import moto_server
from tests.support import ROOT

SKILL_JSON = ROOT / "skill_package" / "skill.json"
BASE = "https://d111111abcdef8.cloudfront.net/"
ACCOUNT = "123456789012"


def arn(aws_region: str, function: str = "pelvic-ease-SkillFunction-AbC123") -> str:
    return f"arn:aws:lambda:{aws_region}:{ACCOUNT}:function:{function}:live"


def deployed_outputs(aws_region: str, stack: str) -> dict[str, str]:
    """What the three stacks' outputs would be (only North America's hosts the pages)."""
    assert stack == "pelvic-ease"
    return {"SkillFunctionAliasArn": arn(aws_region), "AudioBaseUrl": BASE}


# -- the images ------------------------------------------------------------------------------
def test_the_pictures_have_the_documented_sizes_and_come_out_the_same_every_time(tmp_path: Path) -> None:
    written = images.write_all(tmp_path / "a")
    again = images.write_all(tmp_path / "b")
    sizes = {p.path: (p.width, p.height) for p in images.PICTURES}
    assert sizes == {
        "images/icon-108.png": (108, 108),
        "images/icon-512.png": (512, 512),
        "images/art-480.png": (480, 480),
        "images/background-1024x640.png": (1024, 640),
    }
    for path, twin in zip(written, again, strict=True):
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.mode == "RGB"  # opaque
            assert image.size == sizes[path.relative_to(tmp_path / "a").as_posix()]
            # legible at 108 px: the motif stands well off the ground
            colours = image.convert("L").getextrema()
            assert colours[1] - colours[0] > 120
        assert path.read_bytes() == twin.read_bytes()


# -- one source for the legal pages and the storage doc ---------------------------------------
def test_the_skill_names_the_pictures_where_the_site_puts_them() -> None:
    # the Play directive's art and background (audio.py) are the published files, at their sizes
    for named, picture in ((audio.ART, images.ART), (audio.BACKGROUND, images.BACKGROUND)):
        assert named == (site.PREFIX + picture.path, picture.width, picture.height)


def test_every_stored_field_is_named_once_in_the_source() -> None:
    named = [field for item in legal.load()["stored"] for field in item["fields"]]
    assert sorted(named) == sorted(f.name for f in dataclasses.fields(Progress))


def test_the_storage_doc_is_what_the_source_renders() -> None:
    doc = legal.STORAGE_DOC.read_text(encoding="utf-8")
    assert legal.with_section(doc, legal.storage_section()) == doc, (
        "run `make site` after editing privacy.toml"
    )
    for field in (f.name for f in dataclasses.fields(Progress)):
        assert f"`{field}`" in doc, field


def test_the_privacy_policy_says_what_is_kept_why_how_long_and_where() -> None:
    data = legal.load()
    page = legal.privacy_html()
    text = re.sub(r"\s+", " ", page.replace("&quot;", '"').replace("&#x27;", "'"))
    for item in data["stored"]:
        assert item["what"] in text
        assert item["why"] in text
    for fact in (data["time_zone"]["what"], data["deletion"]["what"], data["sharing"]["what"]):
        assert fact in text
    assert "it hurts" in text  # the pain mark, and why it is kept
    assert "time zone" in text
    assert "not sold" in text
    for region in data["region"]:
        assert region["where"] in text
    # the retention the policy states is the one the repository sets
    assert data["retention_days"] == Settings("t").ttl_days == 365
    assert "a year after its last use" in text


def test_the_terms_carry_the_medical_note() -> None:
    page = legal.terms_html()
    assert "not a substitute for professional medical advice" in page
    assert "external" in page


def test_the_regions_are_the_samconfig_environments() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    regions = legal.load()["region"]
    environments = {name for name in config if name != "version"}
    assert environments == {r["config_env"] for r in regions}
    for region in regions:
        env = config[region["config_env"]]
        assert env["deploy"]["parameters"]["region"] == region["aws"]
        assert env["global"]["parameters"]["stack_name"] == "pelvic-ease"
        assert env["deploy"]["parameters"]["capabilities"] == "CAPABILITY_IAM"
    assert {r["alexa"] for r in regions} == {"NA", "EU", "FE"}
    assert point_skill.stacks() == {
        "NA": ("us-east-1", "pelvic-ease"),
        "EU": ("eu-west-1", "pelvic-ease"),
        "FE": ("us-west-2", "pelvic-ease"),
    }


# -- the site -------------------------------------------------------------------------------------
def test_make_site_uploads_the_pages_and_images_with_their_types(tmp_path: Path) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="audio")
        doc = legal.STORAGE_DOC.read_text(encoding="utf-8")
        assert site.main(["--out", str(tmp_path), "--upload", "--bucket", "audio"], client=s3) == 0
        assert legal.STORAGE_DOC.read_text(encoding="utf-8") == doc  # already up to date
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="audio")["Contents"]}
        assert keys == {"site/privacy.html", "site/terms.html", *(f"site/{p.path}" for p in images.PICTURES)}
        page = s3.get_object(Bucket="audio", Key="site/privacy.html")
        assert page["ContentType"] == "text/html; charset=utf-8"
        assert page["CacheControl"] == "public, max-age=300"
        assert s3.head_object(Bucket="audio", Key="site/images/icon-108.png")["ContentType"] == "image/png"


# -- deploy step 4 --------------------------------------------------------------------------------
def pointed(tmp_path: Path) -> Path:
    target = tmp_path / "skill_package"
    shutil.copytree(ROOT / "skill_package", target)
    argv = ["--skill-json", str(target / "skill.json")]
    assert point_skill.main(argv, outputs=deployed_outputs) == 0
    return target


def test_step_four_points_every_region_at_its_alias_and_writes_the_urls(tmp_path: Path) -> None:
    written = (pointed(tmp_path) / "skill.json").read_text()
    manifest = json.loads(written)["manifest"]
    for api in (manifest["apis"]["custom"], manifest["events"]):
        assert api["endpoint"] == {"uri": arn("us-east-1")}
        assert api["regions"] == {
            "EU": {"endpoint": {"uri": arn("eu-west-1")}},
            "FE": {"endpoint": {"uri": arn("us-west-2")}},
        }
    assert "example.com" not in written
    for locale in manifest["publishingInformation"]["locales"].values():
        assert locale["smallIconUri"] == f"{BASE}site/images/icon-108.png"
        assert locale["largeIconUri"] == f"{BASE}site/images/icon-512.png"
    for locale in manifest["privacyAndCompliance"]["locales"].values():
        assert locale["privacyPolicyUrl"] == f"{BASE}site/privacy.html"
        assert locale["termsOfUseUrl"] == f"{BASE}site/terms.html"
    # nothing else changed, and SMAPI's model still reads it
    original = json.loads(SKILL_JSON.read_text())["manifest"]
    for api in (manifest["apis"]["custom"], manifest["events"]):
        del api["endpoint"], api["regions"]
    for section, fields in (("publishingInformation", ("smallIconUri", "largeIconUri")),
                            ("privacyAndCompliance", ("privacyPolicyUrl", "termsOfUseUrl"))):  # fmt: skip
        for body in (manifest, original):
            for locale in body[section]["locales"].values():
                for field in fields:
                    del locale[field]
    assert manifest == original
    envelope = DefaultSerializer().deserialize(written, SkillManifestEnvelope)
    assert envelope.manifest.apis.custom.regions["EU"].endpoint.uri == arn("eu-west-1")


def test_step_four_refuses_an_alias_from_another_region(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "skill_package", tmp_path / "skill_package")

    def crossed(aws_region: str, stack: str) -> dict[str, str]:
        return {"SkillFunctionAliasArn": arn("us-east-1"), "AudioBaseUrl": BASE}

    with pytest.raises(SystemExit, match="EU"):
        point_skill.main(["--skill-json", str(tmp_path / "skill_package" / "skill.json")], outputs=crossed)


def step_four_command() -> str:
    block = (ROOT / "docs" / "deploy.md").read_text().split("```sh", 1)[1].split("```", 1)[0]
    return next(line for line in block.splitlines() if "publish.point_skill" in line)


def test_step_four_runs_as_the_docs_write_it_against_three_regions_stacks(tmp_path: Path) -> None:
    # GIVEN the three stacks in moto's CloudFormation, each in its AWS region
    project = tmp_path / "project"
    for part in ("publish", "skill_package"):
        shutil.copytree(ROOT / part, project / part)
    shutil.copy(ROOT / "samconfig.toml", project)
    (project / ".venv").symlink_to(ROOT / ".venv")
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    with moto_server() as url:
        for alexa, (aws_region, stack) in point_skill.stacks().items():
            outputs = {"SkillFunctionAliasArn": {"Value": arn(aws_region)}}
            if alexa == "NA":
                outputs["AudioBaseUrl"] = {"Value": BASE}
            boto3.client("cloudformation", region_name=aws_region, endpoint_url=url).create_stack(
                StackName=stack, TemplateBody=json.dumps({**template, "Outputs": outputs})
            )
        # WHEN the docs' command runs from the project folder
        env = {**os.environ, "AWS_ENDPOINT_URL": url}
        done = subprocess.run(["bash", "-c", step_four_command()], cwd=project, env=env, capture_output=True,
                              text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    # THEN skill.json names each region's alias, and passes the offline certification check
    manifest = json.loads((project / "skill_package" / "skill.json").read_text())["manifest"]
    assert manifest["apis"]["custom"]["regions"]["FE"]["endpoint"]["uri"] == arn("us-west-2")
    lines: list[str] = []
    assert certify.run(project / "skill_package", deployed=True, out=lines.append) == 0, lines
    assert lines[-1] == "9 ok, 0 pending, 0 failed"


# -- old versions ---------------------------------------------------------------------------------
def test_the_versions_deleted_are_those_older_than_the_one_before_live() -> None:
    versions = ["$LATEST", "1", "2", "3", "4", "5", "6"]
    assert prune_versions.doomed(versions, {"live": "5"}) == ["1", "2", "3"]
    assert prune_versions.doomed(versions, {"live": "5", "pinned": "2"}) == ["1", "3"]
    assert prune_versions.doomed(["$LATEST", "1"], {"live": "1"}) == []
    assert prune_versions.doomed(["$LATEST", "1", "2"], {"live": "2"}) == []
    assert prune_versions.doomed(["$LATEST", "1", "2", "3"], {"live": "2"}) == []  # 3: a deploy under way


def test_pruning_deletes_old_versions_of_each_regions_function_in_moto() -> None:
    def code(release: int) -> bytes:
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as files:
            files.writestr("handler.py", f"RELEASE = {release}\n")
        return archive.getvalue()

    with mock_aws():
        role = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName="skill", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        for aws_region, _ in point_skill.stacks().values():
            client = boto3.client("lambda", region_name=aws_region)
            name = "pelvic-ease-SkillFunction-AbC123"
            client.create_function(FunctionName=name, Runtime="python3.13", Role=role,
                                   Handler="handler.handle", Code={"ZipFile": code(0)})  # fmt: skip
            for release in range(1, 6):  # each deploy's code differs, so each publishes a version
                client.update_function_code(FunctionName=name, ZipFile=code(release))
                client.publish_version(FunctionName=name)
            client.create_alias(FunctionName=name, Name="live", FunctionVersion="4")
        assert prune_versions.main([], outputs=deployed_outputs, clients=lambda region: boto3.client(
            "lambda", region_name=region)) == 0  # fmt: skip
        for aws_region, _ in point_skill.stacks().values():
            client = boto3.client("lambda", region_name=aws_region)
            left = [v["Version"] for v in client.list_versions_by_function(FunctionName=name)["Versions"]]
            assert left == ["$LATEST", "3", "4", "5"], aws_region
            assert client.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "4"


def test_pruning_leaves_a_function_without_the_live_alias_alone() -> None:
    class NoAlias:
        def get_paginator(self, name: str) -> Any:
            pages = {"list_versions_by_function": [{"Versions": [{"Version": "1"}]}],
                     "list_aliases": [{"Aliases": []}]}  # fmt: skip
            return type("Paginator", (), {"paginate": lambda self, **_: pages[name]})()

    with pytest.raises(SystemExit, match="no alias"):
        prune_versions.prune(NoAlias(), "f")


# -- make certify ---------------------------------------------------------------------------------
def test_certify_passes_the_repository_with_only_the_urls_pending() -> None:
    lines: list[str] = []
    assert certify.run(ROOT / "skill_package", deployed=False, out=lines.append) == 0
    assert lines[-1] == "8 ok, 1 pending, 0 failed"
    assert sum("pending" in line for line in lines[1:-1]) == 1
    # after a deploy, the same placeholders fail it
    assert certify.run(ROOT / "skill_package", deployed=True, out=lines.append) == 1


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        (lambda m: m["manifest"]["permissions"].clear(), "declared [] but the code asks"),
        (lambda m: m["manifest"]["publishingInformation"].update(testingInstructions="Say hello."),
         "do not mention"),
        (lambda m: m["manifest"]["publishingInformation"]["locales"]["en-GB"].update(
            examplePhrases=["Alexa, open pelvic ease", "Alexa, ask pelvic ease to juggle three oranges"]),
         "reaches no intent"),
        (lambda m: m["manifest"]["privacyAndCompliance"].update(usesPersonalInfo=False),
         "usesPersonalInfo should be True"),
        (lambda m: m["manifest"]["publishingInformation"]["locales"].pop("en-IN"), "locales differ"),
        (lambda m: m["manifest"]["publishingInformation"]["locales"]["en-US"].update(smallIconUri="http://x/a.png"),
         "not HTTPS"),
    ],
)  # fmt: skip
def test_certify_finds_what_certification_would_refuse(tmp_path: Path, change: Any, finding: str) -> None:
    package = tmp_path / "skill_package"
    shutil.copytree(ROOT / "skill_package", package)
    manifest = json.loads((package / "skill.json").read_text())
    change(manifest)
    (package / "skill.json").write_text(json.dumps(manifest))
    lines: list[str] = []
    assert certify.run(package, deployed=False, out=lines.append) == 1
    assert any(line.strip().startswith("FAIL") and finding in line for line in lines), lines


def test_an_invocation_name_with_a_launch_word_fails() -> None:
    model = {"interactionModel": {"languageModel": {"invocationName": "open ease"}}}
    found = list(certify._invocation({"en-US": model}))
    assert found[0].verdict == certify.FAIL
