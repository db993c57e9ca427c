"""GraphiQL's vendored files: each is the one its note records, and the page loads only them."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from eterna.adapters.web.graphiql_files import SCRIPTS, STYLES, GraphiqlFiles

FOLDER = Path(__file__).resolve().parents[2] / "eterna" / "adapters" / "web" / "graphiql"
ROW = re.compile(
    r"^\| `(?P<file>[^`]+)` \| (?P<package>[\w-]+) \| (?P<version>\d+\.\d+\.\d+) \| "
    r"(?P<licence>\w+) \(`(?P<licence_file>[^`]+)`\) \| `[^`]+` \| `(?P<sha>[0-9a-f]{64})` \|$",
    re.M,
)
# A production build, not a development one: a regression to an unminified file would
# triple the page's weight (graphiql 3.8's "min" build was 3.5 MB).
MAX_BYTES = 1_200_000


def _noted() -> dict[str, re.Match[str]]:
    return {m["file"]: m for m in ROW.finditer((FOLDER / "VENDOR.md").read_text())}


def test_every_vendored_file_is_noted_with_its_checksum() -> None:
    noted = _noted()
    ours = {"graphiql-page.js", "graphiql-page.css"}
    assert set(noted) == {*SCRIPTS, *STYLES} - ours
    for name, row in noted.items():
        body = (FOLDER / name).read_bytes()
        assert hashlib.sha256(body).hexdigest() == row["sha"], f"{name} differs from VENDOR.md"
        assert len(body) < MAX_BYTES, f"{name} is {len(body)} bytes: not a production build?"
        assert "MIT" in (FOLDER / row["licence_file"]).read_text()


def test_graphiql_and_react_versions_fit_together() -> None:
    noted = _noted()
    versions = {row["package"]: row["version"] for row in noted.values()}
    assert versions["react"] == versions["react-dom"]
    assert versions["graphiql"].startswith("3.")  # the last major with a browser build
    assert versions["react"].startswith("18.")  # what GraphiQL 3 supports


def test_the_packaged_files_load() -> None:
    GraphiqlFiles()  # raises when a file the page loads is missing


def test_our_page_script_writes_no_markup() -> None:
    source = (FOLDER / "graphiql-page.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source
