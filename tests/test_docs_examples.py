"""The code examples in README.md and docs/ work as written.

Every fenced ``python`` block runs on its own (a fresh interpreter, so a block must import what it
uses). In every fenced ``bash``/``sh``/``console`` block, the lines that start with ``podium `` or
``.venv/bin/podium `` (optionally after ``$ `` or ``VAR=value`` prefixes), and ``export`` lines,
run in order in one shell; each podium command must exit 0. A block preceded by a
``<!-- no-test -->`` line (blank lines between are allowed) is skipped on purpose: use it for
examples that show a failure or need a key.

Examples run in a scratch directory holding a copy of ``examples/`` and links to the rest of the
repository, with ``PODIUM_HOME`` in that directory, so they write nothing into the checkout.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NO_TEST = "<!-- no-test -->"
SHELL_LANGS = ("bash", "sh", "shell", "console")
_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
_PODIUM = re.compile(r"^(?:\$\s+)?((?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*(?:\.venv/bin/)?podium\s.*)$")
_EXPORT = re.compile(r"^(?:\$\s+)?(export\s+[A-Za-z_][A-Za-z0-9_]*=.*)$")
_COPIED = ("examples",)
_NOT_LINKED = {".git", "podium-out", ".podium", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


@dataclass(frozen=True)
class Block:
    """One fenced code block of a markdown file.

    Attributes:
        doc: the markdown file, relative to the repository.
        line: 1-based line of the opening fence.
        lang: the fence's language.
        code: the block's text.
    """

    doc: str
    line: int
    lang: str
    code: str

    @property
    def id(self) -> str:
        """``docs/spec.md:42``."""
        return f"{self.doc}:{self.line}"


def doc_files() -> list[Path]:
    """README.md and every markdown file under docs/, in a stable order."""
    files = [ROOT / "README.md"] if (ROOT / "README.md").exists() else []
    return files + sorted((ROOT / "docs").rglob("*.md"))


def blocks(path: Path, root: Path = ROOT) -> list[Block]:
    """The testable fenced blocks of one markdown file (``<!-- no-test -->`` ones left out).

    Args:
        path: the markdown file.
        root: what the block's ``doc`` is relative to.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, lang, start = match.group(2), match.group(3).lower(), i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        previous = [ln.strip() for ln in lines[:start] if ln.strip()]
        if previous and previous[-1] == NO_TEST:
            continue
        if lang in ("python", "py") or lang in SHELL_LANGS:
            indent = len(match.group(1))
            code = "\n".join(ln[indent:] if ln[:indent].isspace() else ln for ln in body)
            out.append(Block(str(path.relative_to(root)), start + 1, lang, code + "\n"))
    return out


def shell_commands(code: str) -> list[str]:
    """The podium and export lines of a shell block, continuation lines joined."""
    joined: list[str] = []
    for raw in code.splitlines():
        if joined and joined[-1].endswith("\\"):
            joined[-1] = joined[-1][:-1].rstrip() + " " + raw.strip()
        else:
            joined.append(raw.strip())
    out: list[str] = []
    for line in joined:
        match = _PODIUM.match(line) or _EXPORT.match(line)
        if match:
            out.append(match.group(1))
    return out


ALL_BLOCKS = [b for path in doc_files() for b in blocks(path)]
PYTHON = [b for b in ALL_BLOCKS if b.lang in ("python", "py")]
SHELL = [b for b in ALL_BLOCKS if b.lang in SHELL_LANGS and shell_commands(b.code)]


@pytest.fixture
def scratch(tmp_path: Path, podium_home: Path) -> Path:
    """A working directory that looks like the checkout but writes nowhere in it."""
    work = tmp_path / "work"
    work.mkdir()
    for entry in ROOT.iterdir():
        if entry.name in _NOT_LINKED:
            continue
        if entry.name in _COPIED and entry.is_dir():
            shutil.copytree(entry, work / entry.name)
        else:
            (work / entry.name).symlink_to(entry)
    return work


def _env(scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODIUM_")}
    env["PODIUM_HOME"] = str(scratch / ".podium-home")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    return env


@pytest.mark.parametrize("block", PYTHON, ids=[b.id for b in PYTHON])
def test_python_example(block: Block, scratch: Path) -> None:
    script = scratch / "example.py"
    script.write_text(block.code, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=scratch,
        env=_env(scratch),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"{block.id}: python example failed\n{proc.stdout}{proc.stderr}"


@pytest.mark.parametrize("block", SHELL, ids=[b.id for b in SHELL])
def test_shell_example(block: Block, scratch: Path) -> None:
    lines = ["set -u"]
    for command in shell_commands(block.code):
        if command.startswith("export "):
            lines.append(command)
        else:
            quoted = command.replace("'", "'\\''")
            lines.append(f"{command} || {{ echo 'exit '$?': {quoted}' >&2; exit 1; }}")
    proc = subprocess.run(
        ["bash", "-c", "\n".join(lines)],
        cwd=scratch,
        env=_env(scratch),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"{block.id}: shell example failed\n{proc.stdout}{proc.stderr}"


def test_the_parser_finds_blocks_and_honours_no_test(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text(
        "# t\n\n```python\nprint(1)\n```\n\n<!-- no-test -->\n\n```bash\npodium nope\n```\n"
        "```bash\nmake demo\n$ podium validate a.yaml \\\n   --json\n"
        "PODIUM_ENABLE_FAKE=1 podium plan a.yaml\n```\n",
        encoding="utf-8",
    )
    found = blocks(doc, tmp_path)
    assert [(b.line, b.lang) for b in found] == [(3, "python"), (12, "bash")]
    assert shell_commands(found[1].code) == [
        "podium validate a.yaml --json",
        "PODIUM_ENABLE_FAKE=1 podium plan a.yaml",
    ]
