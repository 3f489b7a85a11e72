"""The CA bundle the function trusts (lambda/certs/amazon-roots.pem): exactly the Amazon Trust
Services roots, made from the pinned certifi, in the artifact where template.yaml tells
botocore to find it, and what botocore's TLS connections verify against."""

from __future__ import annotations

import ssl
import warnings
from pathlib import Path
from typing import Any

import certifi
import pytest
from botocore.exceptions import SSLError
from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from publish import ca_bundle
from sim.local_dynamodb import LOCAL_TABLE, moto_server
from sim.tls_endpoint import tls_endpoint
from tests.support import ROOT, load_template

LAMBDA_TASK_ROOT = "/var/task/"  # where Lambda unpacks a .zip function's code


def roots() -> list[x509.Certificate]:
    # Starfield Services Root G2's serial is 0, which cryptography reads with a warning
    text = ca_bundle.BUNDLE.read_text(encoding="ascii")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [x509.load_pem_x509_certificate(pem.encode()) for pem in ca_bundle.certificates(text)]


def test_the_bundle_is_what_make_ca_bundle_makes_from_the_pinned_certifi() -> None:
    source = Path(certifi.where()).read_text(encoding="ascii")
    assert ca_bundle.BUNDLE.read_text(encoding="ascii") == ca_bundle.bundle(source, certifi.__version__)


def test_it_holds_exactly_the_five_roots_amazon_trust_services_publishes() -> None:
    text = ca_bundle.BUNDLE.read_text(encoding="ascii")
    digests = [ca_bundle.spki_sha256(pem) for pem in ca_bundle.certificates(text)]
    assert digests == list(ca_bundle.ROOTS.values())  # by public key, in order, nothing else
    for cert, name in zip(roots(), ca_bundle.ROOTS, strict=True):
        common_name = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        assert common_name == name
        # a root: its own issuer, signed by its own key, a CA
        assert cert.issuer == cert.subject
        cert.verify_directly_issued_by(cert)
        assert cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value.ca
        assert cert.not_valid_after_utc.year >= 2037  # none needs replacing for a decade


def test_openssl_reads_the_bundle_as_five_cas() -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(ca_bundle.BUNDLE)
    assert context.cert_store_stats()["x509_ca"] == 5


def test_the_template_tells_botocore_to_use_the_bundle_where_the_build_puts_it() -> None:
    function = load_template()["Resources"]["SkillFunction"]["Properties"]
    path = function["Environment"]["Variables"]["AWS_CA_BUNDLE"]
    assert path == LAMBDA_TASK_ROOT + ca_bundle.IN_ARTIFACT
    assert (ROOT / "lambda" / ca_bundle.IN_ARTIFACT).resolve() == ca_bundle.BUNDLE.resolve()
    # the build copies lambda/certs into the artifact's root (tests/test_artifact.py checks the copy)
    assert "cp -R lambda/certs $(ARTIFACTS_DIR)/" in (ROOT / "Makefile").read_text()


def get_item_over_tls(monkeypatch: pytest.MonkeyPatch, url: str, bundle: Path | None) -> Any:
    """One GetItem by the client the function makes (repository.default_client), at ``url``,
    with AWS_CA_BUNDLE set to ``bundle`` (None: unset, so botocore uses certifi's)."""
    from pelvic_ease.repository import default_client  # noqa: PLC0415

    # undone at once: moto_server restores the endpoint variable when its block ends, and a
    # later undo would put back the URL of a server that is gone
    with monkeypatch.context() as patched:
        patched.setenv("AWS_ENDPOINT_URL_DYNAMODB", url)
        if bundle is None:
            patched.delenv("AWS_CA_BUNDLE", raising=False)
        else:
            patched.setenv("AWS_CA_BUNDLE", str(bundle))
        key = {"user_id": {"S": "nobody"}, "profile": {"S": "account"}}
        client = default_client()
    return client.get_item(TableName=LOCAL_TABLE, Key=key)


def test_botocore_verifies_dynamodb_against_the_bundle_it_is_told_to_use(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN DynamoDB over TLS, with a certificate of its own CA (the ATS roots' keys are Amazon's)
    with moto_server() as url, tls_endpoint(url) as tls:
        trusting = tls.trusting(ca_bundle.BUNDLE, tmp_path / "bundle.pem")
        # WHEN the bundle botocore is told to use holds that CA, the call is answered
        assert "Item" not in get_item_over_tls(monkeypatch, tls.url, trusting)
        # and WHEN it does not (the bundle alone, or certifi's when none is named), it is refused:
        # the variable is what decides whom the client trusts
        for bundle in (ca_bundle.BUNDLE, None):
            with pytest.raises(SSLError):
                get_item_over_tls(monkeypatch, tls.url, bundle)
