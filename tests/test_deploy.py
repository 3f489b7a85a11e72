"""The deployable parts: template.yaml, the skill package, and what ties them to the code."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_smapi_model.v1.skill.interaction_model.interaction_model_data import InteractionModelData
from ask_smapi_model.v1.skill.manifest.skill_manifest_envelope import SkillManifestEnvelope
from cfnlint.api import lint_file
from samtranslator.translator.transform import transform

from sim.driver import MODEL_PATH, InteractionModel
from tests.support import ROOT, load_template

CODE = ROOT / "lambda" / "pelvic_ease"
SKILL_JSON = ROOT / "skill_package" / "skill.json"
# Read by the code for local runs only (the content folder beside the package is the default).
LOCAL_ONLY_SETTINGS = {"CONTENT_DIR", "AUDIO_MANIFEST"}


def function_properties() -> dict[str, Any]:
    props: dict[str, Any] = load_template()["Resources"]["SkillFunction"]["Properties"]
    return props


def code_text() -> str:
    return "\n".join(p.read_text() for p in sorted(CODE.glob("*.py")))


def test_cfn_lint_reports_nothing() -> None:
    matches = lint_file(ROOT / "template.yaml")
    assert [str(m) for m in matches] == []


class NoManagedPolicies:
    """The template uses inline policies only, so the translator never needs IAM."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture
def translated(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = load_template()
    # As after `sam package`: the code is an S3 object.
    template["Resources"]["SkillFunction"]["Properties"]["CodeUri"] = "s3://bucket/pelvic-ease.zip"
    result: dict[str, Any] = transform(template, {"SkillId": "amzn1.ask.skill.1234"}, NoManagedPolicies())
    return result


def test_sam_translator_makes_the_alexa_trigger_with_the_skill_id(translated: dict[str, Any]) -> None:
    permission = translated["Resources"]["SkillFunctionAlexaPermission"]["Properties"]
    assert permission["Principal"] == "alexa-appkit.amazon.com"
    assert permission["EventSourceToken"] == {"Ref": "SkillId"}
    function = translated["Resources"]["SkillFunction"]["Properties"]
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Timeout"] == 7


def test_the_skill_id_parameter_refuses_an_empty_value() -> None:
    parameter = load_template()["Parameters"]["SkillId"]
    assert "Default" not in parameter
    assert not re.match(parameter["AllowedPattern"], "")
    assert re.match(parameter["AllowedPattern"], "amzn1.ask.skill.89751fb9-1234-4a5b-8c9d-0123456789ab")


def test_environment_variables_are_exactly_those_the_code_reads() -> None:
    function_env = function_properties()["Environment"]["Variables"]
    global_env = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    text = code_text()
    read = set(re.findall(r'os\.environ\.get\(\s*"([A-Z_]+)"', text))
    read |= set(re.findall(r'^ENV_\w+ = "([A-Z_]+)"', text, re.MULTILINE))
    # POWERTOOLS_LOG_LEVEL is read by Powertools itself, not by our code.
    assert set(function_env) | set(global_env) == (read - LOCAL_ONLY_SETTINGS) | {"POWERTOOLS_LOG_LEVEL"}
    assert function_env["PROGRESS_TABLE"] == {"Ref": "ProgressTable"}
    assert function_env["SKILL_ID"] == {"Ref": "SkillId"}


def test_iam_grants_exactly_the_table_actions_the_code_calls_on_that_table_only() -> None:
    calls = set(re.findall(r'self\._call\(\s*"(\w+)"', (CODE / "repository.py").read_text()))
    called = {"dynamodb:" + "".join(part.title() for part in op.split("_")) for op in calls}
    statements = [s for policy in function_properties()["Policies"] for s in policy["Statement"]]
    assert len(statements) == 1
    assert set(statements[0]["Action"]) == called == {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem",
    }  # fmt: skip
    assert statements[0]["Resource"] == {"Fn::GetAtt": "ProgressTable.Arn"}


def test_the_table_is_as_the_progress_issue_asks() -> None:
    table = load_template()["Resources"]["ProgressTable"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}


def test_outputs_give_the_function_arn_and_the_table_name() -> None:
    outputs = load_template()["Outputs"]
    assert outputs["SkillFunctionArn"]["Value"] == {"Fn::GetAtt": "SkillFunction.Arn"}
    assert outputs["ProgressTableName"]["Value"] == {"Ref": "ProgressTable"}


def test_skill_package_deserializes_with_ask_smapi_model() -> None:
    serializer = DefaultSerializer()
    envelope = serializer.deserialize(SKILL_JSON.read_text(), SkillManifestEnvelope)
    manifest = envelope.manifest
    locale = manifest.publishing_information.locales["en-US"]
    assert "not a substitute for professional medical advice" in locale.description
    assert [s.event_name.value for s in manifest.events.subscriptions] == ["SKILL_DISABLED"]
    assert manifest.privacy_and_compliance.uses_personal_info is False
    model = serializer.deserialize(MODEL_PATH.read_text(), InteractionModelData)
    assert model.interaction_model.language_model.invocation_name == "pelvic ease"


def test_every_example_phrase_resolves_to_an_intent() -> None:
    model = InteractionModel()
    phrases = json.loads(SKILL_JSON.read_text())["manifest"]["publishingInformation"]["locales"]["en-US"][
        "examplePhrases"
    ]
    for phrase in phrases:
        text = phrase.lower().replace("alexa, ", "")
        if text == f"open {model.invocation}":
            continue
        rest = text.split(f"ask {model.invocation} to ", 1)[1]
        assert model.resolve(rest).intent != "AMAZON.FallbackIntent", phrase


def test_ask_cli_points_at_the_skill_package() -> None:
    resources = json.loads((ROOT / "ask-resources.json").read_text())
    source = resources["profiles"]["default"]["skillMetadata"]["src"]
    assert (ROOT / source / "skill.json").resolve() == SKILL_JSON.resolve()


def test_readme_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo", "test"):
        assert f"make {target}" in readme
        assert re.search(rf"^{target}:", makefile, re.MULTILINE)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
