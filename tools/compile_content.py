"""Parse the content files of a built artifact once, at build time.

Run by `make build-SkillFunction`:

    python tools/compile_content.py ARTIFACT_DIR/routines

writes ``compiled.json`` into that folder (``pelvic_ease.content.COMPILED_FILE``): every TOML
file's tables with a digest of its bytes. A cold start then reads JSON instead of parsing
TOML (about 40 M instructions of the first request under Python 3.13); the schema is still
checked at load, and a file whose bytes differ from what was parsed is parsed from its TOML.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambda"))

from pelvic_ease.content import COMPILED_FILE, compile_tables, load_library  # noqa: E402
from pelvic_ease.markets import BASE_LOCALE, LOCALES  # noqa: E402


def main(folder: Path) -> int:
    for locale in (BASE_LOCALE, *LOCALES):  # a build with content that breaks the schema fails here
        load_library(folder, locale)
    compiled = compile_tables(folder)
    (folder / COMPILED_FILE).write_text(json.dumps(compiled, ensure_ascii=False, separators=(",", ":")))
    print(f"parsed {len(compiled)} content files into {COMPILED_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
