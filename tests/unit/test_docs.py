"""The documentation holds together: links reach their targets, examples are valid.

Covers README.md, every page under docs/ and bench/README.md: every relative link points at
an existing file (and, with a ``#fragment``, at a heading of that file), every repository
path named in backticks exists, every GraphQL example is valid against schema.graphql, and
the README stays a short front door with its contents near the top.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", ROOT / "bench" / "README.md", *(ROOT / "docs").rglob("*.md")])
README_MAX_LINES = 200

_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)\)")
_CODE = re.compile(r"`([^`\n]+)`")
_GRAPHQL = re.compile(r"^```graphql\n(.*?)^```", re.S | re.M)
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)
# A repository path in backticks: starts at a top-level folder or names a top-level file.
_REPO_PATH = re.compile(
    r"^(?:(?:eterna|schema|tasks|models|migrations|tests|bench|scripts|examples|docs|\.ci)/"
    r"[\w./*-]*|schema\.graphql|pyproject\.toml|docker-compose\.yml|Dockerfile)$"
)


def _ids(pages: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in pages]


def _prose(page: Path) -> str:
    """Return the page without its fenced code blocks."""
    return _FENCE.sub("", page.read_text())


def slug(heading: str) -> str:
    """Return the anchor a heading gets on a rendered page (lowercase, punctuation dropped)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Return every heading anchor of a page, repeated headings numbered as rendered."""
    seen: Counter[str] = Counter()
    found = set()
    for heading in _HEADING.findall(_prose(page)):
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return found


def test_slugs_follow_the_rendered_anchors() -> None:
    assert slug("`abuse.py`: the document gate, before and after") == (
        "abusepy-the-document-gate-before-and-after"
    )
    assert slug("The order page's browser test") == "the-order-pages-browser-test"
    assert slug("0001. Native Tortoise migrations") == "0001-native-tortoise-migrations"


def test_every_page_is_covered() -> None:
    names = _ids(PAGES)
    for page in ("README.md", "docs/architecture.md", "docs/operations.md", "docs/security.md"):
        assert page in names


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_relative_link_reaches_an_existing_file_and_heading(page: Path) -> None:
    broken = []
    for target in _LINK.findall(_prose(page)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif fragment and file.suffix == ".md" and fragment not in anchors(file):
            broken.append(f"{target}: no heading #{fragment} in {file.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_repository_path_named_in_backticks_exists(page: Path) -> None:
    named = {code for code in _CODE.findall(_prose(page)) if _REPO_PATH.match(code)}
    missing = sorted(p for p in named if not any(ROOT.glob(p.rstrip("/"))))
    assert not missing, f"{page.relative_to(ROOT)} names paths that do not exist: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_graphql_example_is_valid_against_the_schema(page: Path) -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    for example in _GRAPHQL.findall(page.read_text()):
        errors = validate(schema, parse(example))
        assert not errors, f"{page.relative_to(ROOT)}: {errors[0].message}\n{example}"


def test_the_readme_is_a_short_front_door_with_its_contents_near_the_top() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES
    assert "## Contents" in lines[:30]
    assert "## Quick start" in lines
    assert "## Where to read on" in lines
