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
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
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


def test_alexa_invokes_the_published_alias_that_snapstart_serves(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    function = resources["SkillFunction"]["Properties"]
    assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    alias = resources["SkillFunctionAliaslive"]
    assert alias["Type"] == "AWS::Lambda::Alias"
    version = alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
    assert resources[version]["Type"] == "AWS::Lambda::Version"
    # The trigger's permission is on the alias, not the unpublished function ($LATEST).
    permission = resources["SkillFunctionAlexaPermission"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "SkillFunctionAliaslive"}
    assert translated["Outputs"]["SkillFunctionAliasArn"]["Value"] == {"Ref": "SkillFunctionAliaslive"}


def test_concurrency_is_reserved_from_a_parameter(translated: dict[str, Any]) -> None:
    parameter = load_template()["Parameters"]["ReservedConcurrency"]
    assert 1 <= parameter["Default"] <= parameter["MaxValue"]
    function = translated["Resources"]["SkillFunction"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}


def test_the_function_logs_to_the_group_the_stack_creates(translated: dict[str, Any]) -> None:
    function = translated["Resources"]["SkillFunction"]["Properties"]
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": "SkillFunctionLogGroup"}
    group = load_template()["Resources"]["SkillFunctionLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert "SkillFunction" not in json.dumps(group["LogGroupName"])  # no cycle through the function


ALARMS = {
    # metric -> (namespace, dimension name, dimension value)
    "Errors": ("AWS/Lambda", "FunctionName", {"Ref": "SkillFunction"}),
    "Throttles": ("AWS/Lambda", "FunctionName", {"Ref": "SkillFunction"}),
    "Duration": ("AWS/Lambda", "FunctionName", {"Ref": "SkillFunction"}),
    "ProgressSaveFailed": ("PelvicEase", "service", "pelvic-ease"),
    "ErrorSpoken": ("PelvicEase", "service", "pelvic-ease"),
}


def test_alarms_watch_what_users_notice_and_notify_the_topic() -> None:
    template = load_template()
    resources = template["Resources"]
    alarms = {r["Properties"]["MetricName"]: r["Properties"] for r in resources.values()
              if r["Type"] == "AWS::CloudWatch::Alarm"}  # fmt: skip
    assert set(alarms) == set(ALARMS)
    for metric, (namespace, dimension, value) in ALARMS.items():
        alarm = alarms[metric]
        assert alarm["Namespace"] == namespace, metric
        assert alarm["Dimensions"] == [{"Name": dimension, "Value": value}], metric
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], metric
        assert alarm["TreatMissingData"] == "notBreaching", metric
    # "near the timeout": below the function's 7 s, above any turn the repository lets run
    timeout_ms = template["Globals"]["Function"]["Timeout"] * 1000
    assert alarms["Duration"]["Statistic"] == "Maximum"
    assert timeout_ms - 1500 <= alarms["Duration"]["Threshold"] < timeout_ms
    assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "AlarmEmailGiven"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    pattern = template["Parameters"]["AlarmEmail"]["AllowedPattern"]
    assert re.match(pattern, "")
    assert re.match(pattern, "ops@example.com")
    assert not re.match(pattern, "not an address")


def test_our_alarmed_metrics_are_ones_the_code_emits() -> None:
    from pelvic_ease.observability import count, metrics  # noqa: PLC0415

    text = code_text()
    deployed_env = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    for metric, (namespace, dimension, value) in ALARMS.items():
        if namespace == "AWS/Lambda":
            continue
        assert f'count("{metric}")' in text, metric
        # An alarm matches a metric only with its namespace and its whole set of dimensions:
        # read both from the EMF blob Powertools writes, and from the deployed environment.
        assert (namespace, value) == (
            deployed_env["POWERTOOLS_METRICS_NAMESPACE"],
            deployed_env["POWERTOOLS_SERVICE_NAME"],
        )
        count(metric)
        try:
            blob: dict[str, Any] = dict(metrics.serialize_metric_set())
        finally:
            metrics.clear_metrics()
        emitted = blob["_aws"]["CloudWatchMetrics"][0]
        assert emitted["Namespace"] == namespace, metric
        assert emitted["Dimensions"] == [[dimension]], metric
        assert blob[dimension] == value, metric
        assert [m["Name"] for m in emitted["Metrics"]] == [metric]


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
    # POWERTOOLS_LOG_LEVEL is read by Powertools itself, AWS_CA_BUNDLE by botocore, not by our code.
    assert set(function_env) | set(global_env) == (read - LOCAL_ONLY_SETTINGS) | {
        "POWERTOOLS_LOG_LEVEL",
        "AWS_CA_BUNDLE",
    }
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
    assert props["DeletionProtectionEnabled"] is True


def test_outputs_give_the_alias_arn_and_the_table_name() -> None:
    outputs = load_template()["Outputs"]
    assert outputs["SkillFunctionAliasArn"]["Value"] == {"Ref": "SkillFunction.Alias"}
    assert outputs["ProgressTableName"]["Value"] == {"Ref": "ProgressTable"}


def test_skill_package_deserializes_with_ask_smapi_model() -> None:
    serializer = DefaultSerializer()
    envelope = serializer.deserialize(SKILL_JSON.read_text(), SkillManifestEnvelope)
    manifest = envelope.manifest
    locale = manifest.publishing_information.locales["en-US"]
    assert "not a substitute for professional medical advice" in locale.description
    assert [s.event_name.value for s in manifest.events.subscriptions] == ["SKILL_DISABLED"]
    # a record per user, with a pain mark and days in the user's time zone (docs/deploy.md)
    assert manifest.privacy_and_compliance.uses_personal_info is True
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


def deploy_commands() -> list[str]:
    """The shell lines of the deploy steps (docs/deploy.md), comments left out."""
    block = DEPLOY_DOC.read_text().split("```sh", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_deploying_creates_the_skill_then_the_stack_for_its_id_then_points_it_at_the_alias() -> None:
    lines = deploy_commands()
    asks = [i for i, line in enumerate(lines) if line.startswith("ask deploy")]
    deploys = [i for i, line in enumerate(lines) if "sam deploy" in line]
    assert len(asks) == 2
    # the first creates the skill only; the second, without --target, also enables it for testing
    assert lines[asks[0]] == "ask deploy --target skill-metadata"
    assert lines[asks[1]] == "ask deploy"
    assert asks[0] < deploys[0] <= deploys[-1] < asks[1]
    # the id the first `ask deploy` wrote is the one the stack is deployed for
    reads_id = next(i for i, line in enumerate(lines) if ".ask/ask-states.json" in line)
    assert asks[0] < reads_id < deploys[0]
    assert all("SkillId=$SKILL_ID" in lines[i] for i in deploys)
    # the audio goes to the bucket the first stack made, and a second deploy ships its manifest
    render = next(i for i, line in enumerate(lines) if line.startswith("make render-audio"))
    assert deploys[0] < render < deploys[-1]
    # the pages go up with the audio; the step that points the skill at every region's alias
    # (tests/test_publish.py) runs after the last deploy, then the offline certification check
    site = next(i for i, line in enumerate(lines) if line.startswith("make site"))
    assert deploys[0] < site < deploys[-1]
    point = lines.index(".venv/bin/python -m publish.point_skill")
    certify = lines.index('make certify ARGS="--deployed"')
    prune = lines.index(".venv/bin/python -m publish.prune_versions")
    assert deploys[-1] < prune < point < certify < asks[1]
    # one deploy command per region, each naming its samconfig environment
    regions = {"eu": "--config-env eu", "fe": "--config-env fe"}
    for env, flag in regions.items():
        assert any(flag in lines[i] and "AudioBaseUrl=$(output AudioBaseUrl)" in lines[i] for i in deploys), (
            env
        )
    assert any("--config-env" not in lines[i] for i in deploys)  # North America: the default
    # every output the steps read exists
    outputs = load_template()["Outputs"]
    for named in re.findall(r"\$\(output (\w+)\)", "\n".join(lines)):
        assert named in outputs, named


def test_the_skill_package_names_no_endpoint_until_the_stack_exists() -> None:
    # Alexa refuses to save an endpoint whose function does not yet let this skill invoke it
    # ("The trigger setting for the Lambda ... is invalid", alexa/ask-cli#365), so the first
    # `ask deploy`, which creates the skill, must carry none: not even a placeholder.
    manifest = json.loads(SKILL_JSON.read_text())["manifest"]
    assert "endpoint" not in manifest["apis"]["custom"]
    assert "regions" not in manifest["apis"]["custom"]
    assert "endpoint" not in manifest["events"]
    assert manifest["events"]["subscriptions"]


def test_samconfig_and_ask_resources_are_in_the_forms_their_tools_read() -> None:
    import tomllib  # noqa: PLC0415

    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert config["version"] == 0.1
    assert config["default"]["build"]["parameters"]["build_in_source"] is True
    assert config["default"]["deploy"]["parameters"]["capabilities"] == "CAPABILITY_IAM"
    resources = json.loads((ROOT / "ask-resources.json").read_text())
    assert resources["askcliResourcesVersion"] == "2020-03-31"
    assert set(resources["profiles"]["default"]) == {"skillMetadata"}  # the skill only: SAM deploys the code
