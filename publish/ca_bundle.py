"""The CA bundle the function trusts: the five Amazon Trust Services roots, nothing else.

    make ca-bundle        writes lambda/certs/amazon-roots.pem from the pinned certifi

The function calls one AWS endpoint, DynamoDB, whose certificates Amazon Trust Services
issues. botocore otherwise trusts certifi's whole bundle (about 120 roots), and urllib3
loads a bundle into every new TLS connection's context: about 190 M instructions on the
first DynamoDB call after a SnapStart restore, and again whenever DynamoDB has closed the
idle connection. template.yaml points botocore at this file instead (AWS_CA_BUNDLE).

The roots are taken from certifi (Mozilla's root store, at the version constraints.txt
pins) and picked by the SHA-256 of their public key as Amazon Trust Services publishes it
(https://www.amazontrust.com/repository/), which recommends trusting all five: Amazon Root
CA 1 to 4 (one per key type) and Starfield Services Root Certificate Authority - G2 (the
older root that cross-signs them). A root added or renewed there: add its hash below, bump
certifi, run `make ca-bundle`, commit (tests/test_ca_bundle.py checks the file is this
script's output).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "lambda" / "certs" / "amazon-roots.pem"
# Where the build puts it in the artifact, and so where the function finds it (/var/task).
IN_ARTIFACT = "certs/amazon-roots.pem"
# Name -> SHA-256 of the SubjectPublicKeyInfo (DER), from https://www.amazontrust.com/repository/
ROOTS = {
    "Amazon Root CA 1": "fbe3018031f9586bcbf41727e417b7d1c45c2f47f93be372a17b96b50757d5a2",
    "Amazon Root CA 2": "7f4296fc5b6a4e3b35d3c369623e364ab1af381d8fa7121533c9d6c633ea2461",
    "Amazon Root CA 3": "36abc32656acfc645c61b71613c4bf21c787f5cabbee48348d58597803d7abc9",
    "Amazon Root CA 4": "f7ecded5c66047d28ed6466b543c40e0743abe81d109254dcf845d4c2c7853c5",
    "Starfield Services Root Certificate Authority - G2": (
        "2b071c59a0a0ae76b0eadb2bad23bad4580b69c3601b630c2eaf0613afa83f92"
    ),
}
PEM = re.compile(r"-----BEGIN CERTIFICATE-----\n.*?\n-----END CERTIFICATE-----\n", re.DOTALL)


def spki_sha256(pem: str) -> str:
    """The SHA-256 of a certificate's public key (its DER SubjectPublicKeyInfo); "" for one
    cryptography cannot read (Mozilla's store holds an old root with a negative serial)."""
    from cryptography import x509  # noqa: PLC0415 - a development dependency
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            key = x509.load_pem_x509_certificate(pem.encode()).public_key()
        except ValueError:
            return ""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def certificates(text: str) -> list[str]:
    """The PEM certificates in a bundle's text, in order."""
    return PEM.findall(text)


def bundle(source: str, version: str) -> str:
    """The bundle's text: a header, then each root of ROOTS found in ``source`` (by its key)."""
    by_key = {spki_sha256(pem): pem for pem in certificates(source)}
    missing = [name for name, digest in ROOTS.items() if digest not in by_key]
    if missing:
        raise SystemExit(f"certifi {version} lacks {', '.join(missing)}")
    header = (
        "# The Amazon Trust Services roots (https://www.amazontrust.com/repository/), the only CAs\n"
        f"# the function trusts (template.yaml: AWS_CA_BUNDLE). From certifi {version} by\n"
        "# publish/ca_bundle.py (make ca-bundle): do not edit.\n"
    )
    return header + "".join(f"# {name}\n{by_key[digest]}" for name, digest in ROOTS.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make ca-bundle", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--out", type=Path, default=BUNDLE)
    args = parser.parse_args(argv)
    import certifi  # noqa: PLC0415

    text = bundle(Path(certifi.where()).read_text(encoding="ascii"), certifi.__version__)
    args.out.write_text(text, encoding="ascii")
    print(f"{len(certificates(text))} roots into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
