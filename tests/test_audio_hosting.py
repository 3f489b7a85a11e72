"""Rendered audio hosting: a private bucket that only this stack's CloudFront distribution reads.

Checked on the template as the SAM translator deploys it (test_deploy's `translated` fixture);
test_deploy's cfn-lint test already covers the whole template, new resources included.
"""

from __future__ import annotations

import json
from typing import Any

from ask_sdk_core.serialize import DefaultSerializer
from ask_smapi_model.v1.skill.manifest.audio_interface import AudioInterface
from ask_smapi_model.v1.skill.manifest.skill_manifest_envelope import SkillManifestEnvelope

from tests.support import load_template
from tests.test_deploy import SKILL_JSON, translated

__all__ = ["translated"]  # a fixture: imported for pytest to find, used by name below

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # AWS managed cache policy
DISTRIBUTION_ARN = "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${AudioDistribution}"
AUDIO_BASE_URL = {"Fn::Sub": "https://${AudioDistribution.DomainName}/"}


def resource(template: dict[str, Any], name: str, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"][name]
    assert found["Type"] == kind
    props: dict[str, Any] = found["Properties"]
    return props


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def bucket_policy_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    policy = resource(template, "AudioBucketPolicy", "AWS::S3::BucketPolicy")
    assert policy["Bucket"] == {"Ref": "AudioBucket"}
    statements: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return statements


def test_the_audio_resources_survive_the_sam_translator(translated: dict[str, Any]) -> None:
    kinds = {name: body["Type"] for name, body in translated["Resources"].items()}
    assert kinds["AudioBucket"] == "AWS::S3::Bucket"
    assert kinds["AudioBucketPolicy"] == "AWS::S3::BucketPolicy"
    assert kinds["AudioOriginAccessControl"] == "AWS::CloudFront::OriginAccessControl"
    assert kinds["AudioDistribution"] == "AWS::CloudFront::Distribution"


def test_the_audio_bucket_is_private_encrypted_and_kept(translated: dict[str, Any]) -> None:
    bucket = translated["Resources"]["AudioBucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    props = resource(translated, "AudioBucket", "AWS::S3::Bucket")
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert [r["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules] == ["AES256"]
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    # No ACLs or website hosting: nothing but the bucket policy decides who reads.
    assert "AccessControl" not in props
    assert "WebsiteConfiguration" not in props


def test_only_this_stacks_distribution_may_read_the_audio(translated: dict[str, Any]) -> None:
    allows = [s for s in bucket_policy_statements(translated) if s["Effect"] == "Allow"]
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert as_list(allow["Action"]) == ["s3:GetObject"]
    assert allow["Resource"] == {"Fn::Sub": "${AudioBucket.Arn}/*"}
    assert allow["Condition"] == {"StringEquals": {"AWS:SourceArn": {"Fn::Sub": DISTRIBUTION_ARN}}}


def test_the_audio_bucket_refuses_requests_without_tls(translated: dict[str, Any]) -> None:
    denies = [s for s in bucket_policy_statements(translated) if s["Effect"] == "Deny"]
    assert len(denies) == 1
    (deny,) = denies
    assert deny["Principal"] == "*"
    assert as_list(deny["Action"]) == ["s3:*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Both the bucket itself (listing) and every object in it.
    assert deny["Resource"] == [{"Fn::GetAtt": "AudioBucket.Arn"}, {"Fn::Sub": "${AudioBucket.Arn}/*"}]


def test_the_distribution_serves_the_bucket_through_the_origin_access_control(
    translated: dict[str, Any],
) -> None:
    oac = resource(translated, "AudioOriginAccessControl", "AWS::CloudFront::OriginAccessControl")
    config = oac["OriginAccessControlConfig"]
    assert config["OriginAccessControlOriginType"] == "s3"
    assert config["SigningBehavior"] == "always"
    assert config["SigningProtocol"] == "sigv4"

    distribution = resource(translated, "AudioDistribution", "AWS::CloudFront::Distribution")
    dist = distribution["DistributionConfig"]
    assert dist["Enabled"] is True
    (origin,) = dist["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": "AudioBucket.RegionalDomainName"}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": "AudioOriginAccessControl.Id"}
    # An empty identity: the legacy origin access identity is not used alongside the OAC.
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}

    behaviour = dist["DefaultCacheBehavior"]
    assert behaviour["TargetOriginId"] == origin["Id"]
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["CachePolicyId"] == CACHING_OPTIMIZED
    assert behaviour["Compress"] is False
    assert "CacheBehaviors" not in dist  # no other path with another policy


def test_the_function_gets_the_https_base_url_of_the_distribution(translated: dict[str, Any]) -> None:
    # the North America stack's own distribution; the EU and FE stacks are given its address
    hosted_or_given = {"Fn::If": ["HostsAudio", AUDIO_BASE_URL, {"Ref": "AudioBaseUrl"}]}
    env = resource(translated, "SkillFunction", "AWS::Lambda::Function")["Environment"]["Variables"]
    assert env["AUDIO_BASE_URL"] == hosted_or_given
    outputs = load_template()["Outputs"]
    assert outputs["AudioBaseUrl"]["Value"] == hosted_or_given
    assert outputs["AudioBucketName"]["Value"] == {"Ref": "AudioBucket"}
    assert outputs["AudioBucketName"]["Condition"] == "HostsAudio"


def test_only_the_stack_without_an_audio_address_hosts_the_audio() -> None:
    template = load_template()
    assert template["Conditions"]["HostsAudio"] == {"Fn::Equals": [{"Ref": "AudioBaseUrl"}, ""]}
    parameter = template["Parameters"]["AudioBaseUrl"]
    assert parameter["Default"] == ""
    hosting = {name for name, r in template["Resources"].items() if name.startswith("Audio")}
    assert hosting == {"AudioBucket", "AudioBucketPolicy", "AudioOriginAccessControl", "AudioDistribution"}
    for name in hosting:
        assert template["Resources"][name]["Condition"] == "HostsAudio", name


def test_the_function_has_no_s3_permission(translated: dict[str, Any]) -> None:
    role = resource(translated, "SkillFunctionRole", "AWS::IAM::Role")
    actions = [
        action.lower()
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
    ]
    assert actions  # the table's actions are there, so the walk above found the statements
    assert [a for a in actions if a.startswith("s3:") or a == "*"] == []
    # SAM's own managed policies: logs and X-Ray, neither of which reaches S3.
    assert set(role["ManagedPolicyArns"]) <= {
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    }


def test_the_skill_manifest_declares_the_audio_player() -> None:
    custom = json.loads(SKILL_JSON.read_text())["manifest"]["apis"]["custom"]
    assert {"type": "AUDIO_PLAYER"} in custom["interfaces"]
    # And the SMAPI model reads it as the AudioPlayer interface, not an unknown type.
    envelope = DefaultSerializer().deserialize(SKILL_JSON.read_text(), SkillManifestEnvelope)
    interfaces = envelope.manifest.apis.custom.interfaces
    assert any(isinstance(i, AudioInterface) for i in interfaces)
