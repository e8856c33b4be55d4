"""The import rules that keep the layers apart, checked on every module's source with `ast`.

  core <- accounts <- courseware <- {quizzes, labs} <- {gradebook, offerings} <- {lti, demo, config}

A module may import its own app and any app on a lower layer, never one beside it or above it.
An app's entry points (views, API, URLs, admin) are leaves: only `config` (which wires the URLs)
imports another app's (core's modules are shared infrastructure, not entry points), so a
helper two apps share lives in `core` or in the lower app's services/selectors. The grading
engines `labs/grading/` and `gradebook/engine/` are plain Python: no Django, no app, only
themselves and third-party code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {
    "core": 0,
    "accounts": 1,
    "courseware": 2,
    "quizzes": 3,
    "labs": 3,
    "gradebook": 4,
    # Copies an offering: orchestrates courseware, quizzes and labs, each copying its own.
    "offerings": 4,
    "lti": 5,
    "demo": 5,
    "config": 6,
}
LEAF_MODULES = {"views", "api", "urls", "api_urls", "admin"}
ENGINES = (("labs", "grading"), ("gradebook", "engine"))


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.imported}: {self.rule}"


def _imported_names(
    tree: ast.AST, module: tuple[str, ...], *, package: bool = False
) -> list[tuple[int, str]]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                # In a package's __init__, `.` is the package itself, not its parent.
                base = module[: len(module) - node.level + package]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names.append((node.lineno, target))
            # `from labs import views` names a module too.
            names += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return names


def check_source(path: str, source: str) -> list[Violation]:
    """Every import in one module's source that breaks a rule; `path` is relative to ROOT."""
    parts = tuple(Path(path).with_suffix("").parts)
    package = parts[-1] == "__init__"
    if package:
        parts = parts[:-1]
    app = parts[0]
    found = []
    seen = set()
    for line, name in _imported_names(ast.parse(source), parts, package=package):
        rule = _broken_rule(parts, app, tuple(name.split(".")))
        if rule and (line, rule) not in seen:
            seen.add((line, rule))
            found.append(Violation(path, line, name, rule))
    return found


def _broken_rule(module: tuple[str, ...], app: str, target: tuple[str, ...]) -> str | None:
    other = target[0]
    if module[:2] in ENGINES:
        if other == "django" or (other in LAYERS and target[:2] != module[:2]):
            return f"{'/'.join(module[:2])}/ is plain Python: it imports no Django and no app"
        return None
    if other not in LAYERS or other == app:
        return None
    if LAYERS[other] >= LAYERS[app]:
        return f"{app} (layer {LAYERS[app]}) may not depend on {other} (layer {LAYERS[other]})"
    if app != "config" and other != "core" and len(target) > 1 and target[1] in LEAF_MODULES:
        return f"{other}.{target[1]} is an entry point: move what {app} needs to core or services"
    return None


def _modules() -> list[Path]:
    return sorted(
        path
        for app in LAYERS
        if (ROOT / app).is_dir()
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    )


def test_every_module_keeps_to_its_layer():
    violations = [
        violation
        for path in _modules()
        for violation in check_source(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
    ]
    assert not violations, "Imports that break the layers:\n" + "\n".join(map(str, violations))


def test_it_sees_every_app():
    checked = {path.relative_to(ROOT).parts[0] for path in _modules()}
    assert {"core", "accounts", "courseware", "quizzes", "labs", "config"} <= checked


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        # The three imports that ran the wrong way before the rules existed.
        (
            "core/permissions.py",
            "def f():\n    from courseware.models import Membership\n",
            "core (layer 0) may not depend on courseware (layer 2)",
        ),
        (
            "courseware/demo.py",
            "from labs.demo import demo_lab_load\n",
            "courseware (layer 2) may not depend on labs (layer 3)",
        ),
        (
            "labs/views.py",
            "from courseware.views import htmx_login_required\n",
            "courseware.views is an entry point",
        ),
        ("quizzes/services.py", "from labs import models\n", "quizzes (layer 3) may not"),
        (
            "accounts/services.py",
            "from courseware.models import Membership\n",
            "accounts (layer 1) may not depend on courseware (layer 2)",
        ),
        ("accounts/views.py", "from core.decorators import htmx_login_required\n", None),
        ("courseware/services.py", "from accounts.services import account_create\n", None),
        ("labs/grading/engine.py", "import django.conf\n", "labs/grading/ is plain Python"),
        ("labs/grading/engine.py", "from core.storage import x\n", "plain Python"),
        ("labs/grading/engine.py", "from .. import models\n", "plain Python"),
        ("courseware/api.py", "from . import views\n", None),
        ("labs/services.py", "from courseware.selectors import course_students\n", None),
        ("labs/grading/engine.py", "from labs.grading.errors import GradingError\n", None),
        ("config/urls.py", "from labs import views\n", None),
        ("gradebook/engine/totals.py", "from django.db import models\n", "gradebook/engine/ is"),
        ("gradebook/engine/totals.py", "from gradebook.models import X\n", "plain Python"),
        ("gradebook/engine/totals.py", "from labs.grading import metrics\n", "plain Python"),
        ("gradebook/engine/__init__.py", "from .types import Item\n", None),
        ("gradebook/engine/__init__.py", "from .. import models\n", "plain Python"),
        ("gradebook/services.py", "from gradebook.engine import student_totals\n", None),
    ],
)
def test_the_checker_names_the_broken_rule(path, source, expected):
    violations = check_source(path, source)

    if expected is None:
        assert violations == []
    else:
        assert len(violations) == 1 and expected in violations[0].rule
        assert str(violations[0]).startswith(f"{path}:")
