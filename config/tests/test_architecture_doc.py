"""docs/architecture.md draws the house as it is: its paths exist, every room has a row,
its layers are `.importlinter`'s, and its rule and import tables name real code.

Plain pytest: the doc and the source files are read as text (and parsed with `ast`); no
database, no Django models.
"""

from __future__ import annotations

import ast
import configparser
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
IMPORTLINTER = ROOT / ".importlinter"
# Directories with an __init__.py that are not rooms of the house.
NOT_ROOMS = {"tests", "migrations", "management", "templates", "static"}
PATH_LIKE = re.compile(r"[\w.-]+(?:/[\w.-]+)*/?")
LAYERS_LINE = re.compile(r"\s*[a-z_]+(?:\s*[>|]\s*[a-z_]+)+\s*")
IDENTIFIER = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


# ---- reading the doc and the linter's config -------------------------------------------


@cache
def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def without_fences(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def backticked(text: str) -> list[str]:
    """Inline code spans (they may wrap a line), whitespace collapsed."""
    return [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", without_fences(text))]


def section(title: str) -> str:
    """The text of `## title` up to the next `## ` heading."""
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", doc_text(), re.S | re.M)
    assert found, f"docs/architecture.md has no '## {title}' section"
    return found.group(1)


def table_rows(text: str) -> list[list[str]]:
    """The cells of every table row in `text`, header and separator rows left out."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|") or re.fullmatch(r"\|[\s|:-]+\|", line):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and cells[0] not in {"app", "room", "rule", "part", "budget", "contract"}:
            rows.append(cells)
    return rows


@cache
def linter() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(IMPORTLINTER, encoding="utf-8")
    return parser


def linter_list(section_name: str, option: str) -> list[str]:
    return [line.strip() for line in linter()[section_name][option].splitlines() if line.strip()]


def apps() -> list[str]:
    return linter_list("importlinter", "root_packages")


def normalized_layers(layers: list[str]) -> list[str]:
    return [" | ".join(part.strip() for part in layer.split("|")) for layer in layers]


# ---- the code ----------------------------------------------------------------------------


def rooms_in_code() -> list[str]:
    """Every app package and sub-package, as `app/sub/`."""
    rooms = []
    for app in apps():
        for init in sorted((ROOT / app).rglob("__init__.py")):
            package = init.parent.relative_to(ROOT)
            if not NOT_ROOMS & set(package.parts):
                rooms.append(f"{package.as_posix()}/")
    return rooms


@cache
def module_tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _defined_names(body: list[ast.stmt]) -> dict[str, ast.stmt]:
    names: dict[str, ast.stmt] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.update({n.id: node for n in ast.walk(target) if isinstance(n, ast.Name)})
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update({(a.asname or a.name).split(".")[0]: node for a in node.names})
    return names


def defines(path: Path, dotted: str) -> bool:
    """Does the module at `path` define `dotted` (`name`, or `Class.attribute`)?"""
    body: list[ast.stmt] = module_tree(path).body
    for part in dotted.split("."):
        node = _defined_names(body).get(part)
        if node is None:
            return False
        if not isinstance(node, ast.ClassDef):
            return True  # an attribute of a function or a value: the name is enough
        body = node.body
    return True


def module_file(dotted: str) -> tuple[Path, str] | None:
    """The file of the longest module prefix of `dotted`, and what is left after it."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:end])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate, ".".join(parts[end:])
    return None


# ---- the checks --------------------------------------------------------------------------


def test_every_backticked_path_exists() -> None:
    missing = []
    for span in backticked(doc_text()):
        if span.startswith("/") or not PATH_LIKE.fullmatch(span):
            continue  # a URL, or not a path at all
        if ("/" in span or span.endswith((".py", ".js"))) and not (ROOT / span).exists():
            missing.append(span)
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_dotted_name_of_an_app_resolves() -> None:
    unresolved = []
    for span in backticked(doc_text()):
        name = span.split("(")[0]
        if not IDENTIFIER.fullmatch(name) or name.split(".")[0] not in apps() or "." not in name:
            continue
        found = module_file(name)
        if found is None or (found[1] and not defines(found[0], found[1])):
            unresolved.append(span)
    assert not unresolved, (
        f"docs/architecture.md names modules or names that do not exist: {unresolved}"
    )


def test_every_app_and_sub_package_has_a_room() -> None:
    listed = {span for cells in table_rows(section("Rooms")) for span in backticked(cells[0])}
    missing = [room for room in rooms_in_code() if room not in listed]
    assert not missing, (
        f"docs/architecture.md, '## Rooms': add a row (first column, backticked) for {missing}"
    )


def test_every_rule_names_what_its_file_defines() -> None:
    problems = []
    for cells in table_rows(section("Every rule once")):
        assert len(cells) == 3, f"'Every rule once' rows have three cells: {cells}"
        spans = backticked(cells[1])
        files = [ROOT / span for span in spans if span.endswith(".py")]
        assert files, f"'Every rule once': no file in 'lives in' for {cells[0]!r}"
        for name in (span for span in spans if IDENTIFIER.fullmatch(span)):
            if not name.endswith(".py") and not any(defines(f, name) for f in files if f.is_file()):
                problems.append(f"{name} (in {[f.relative_to(ROOT).as_posix() for f in files]})")
    assert not problems, f"'Every rule once' names what its files do not define: {problems}"


def test_the_layers_line_is_the_linters() -> None:
    lines = [
        line.strip().strip("`")
        for line in doc_text().splitlines()
        if ">" in line and LAYERS_LINE.fullmatch(line.strip().strip("`"))
    ]
    assert len(lines) == 1, f"docs/architecture.md needs one layers line (a > b > ...): {lines}"
    in_doc = normalized_layers(lines[0].split(">"))
    in_linter = normalized_layers(linter_list("importlinter:contract:layers", "layers"))
    assert in_doc == in_linter, (
        f"the layers line in docs/architecture.md\n  {' > '.join(in_doc)}\n"
        f"is not .importlinter's\n  {' > '.join(in_linter)}"
    )


def test_the_linter_ignores_only_tests() -> None:
    ignored = [
        (name, line)
        for name in linter().sections()
        if linter().has_option(name, "ignore_imports")
        for line in linter_list(name, "ignore_imports")
        if not line.startswith(("**.tests", "**.conftest"))
    ]
    assert not ignored, f"docs/architecture.md says only tests are ignored; not so: {ignored}"


def test_the_import_table_is_the_real_graph() -> None:
    grimp = pytest.importorskip("grimp")  # import-linter's graph (requirements-dev.txt)
    graph = grimp.build_graph(
        *apps(), include_external_packages=False, exclude_type_checking_imports=True
    )
    real: dict[str, set[str]] = {app: set() for app in apps()}
    for module in graph.modules:
        if ".tests." in f"{module}.":
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            source, target = module.split(".")[0], imported.split(".")[0]
            if source != target:
                real[source].add(target)
    table = {}
    for cells in table_rows(section("Layers")):
        app = cells[0].strip("`")
        if app in real and len(cells) == 2:
            table[app] = {span for span in backticked(cells[1]) if span in real}
    assert set(table) == set(real), f"'## Layers' import table lacks {set(real) - set(table)}"
    wrong = {
        app: {"add": sorted(real[app] - table[app]), "drop": sorted(table[app] - real[app])}
        for app in apps()
        if table[app] != real[app]
    }
    assert not wrong, f"docs/architecture.md's import table differs from the code: {wrong}"
