from __future__ import annotations

from pathlib import Path

from noxgrid.init.testreqs import choose_lean, own_test_file
from noxgrid.model.devgroups import DevGroup

NOT_RUNTIME = {"test", "tests", "testing", "dev", "docs", "lint"}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_compiled_txt_wins_over_its_in(tmp_path):
    root = write(tmp_path, {"requirements/tests.in": "pytest\n"})
    assert own_test_file(root) == "requirements/tests.in"
    write(root, {"requirements/tests.txt": "pytest==7.4.4\n"})
    assert own_test_file(root) == "requirements/tests.txt"
    lean = choose_lean(root, {}, [], "x", NOT_RUNTIME)
    assert lean.requirements == "requirements/tests.txt" and lean.text is None
    assert lean.note == "lean profile: the project's own requirements/tests.txt"


def test_test_files_by_name(tmp_path):
    assert own_test_file(write(tmp_path / "a", {"requirements_test.txt": "pytest\n"})) == (
        "requirements_test.txt"
    )
    assert own_test_file(write(tmp_path / "b", {"requirements/unit-tests.txt": "x\n"})) == (
        "requirements/unit-tests.txt"
    )
    assert own_test_file(write(tmp_path / "c", {"requirements-latest.txt": "x\n"})) is None
    assert own_test_file(write(tmp_path / "d", {"contest.txt": "x\n"})) is None


def test_tox_deps_come_before_extras(tmp_path):
    root = write(
        tmp_path,
        {
            "tox.ini": "[testenv]\ndeps =\n  -r requirements/ci.txt\n  pytest\nextras = ml\n",
            "requirements/ci.txt": "httpx\n",
        },
    )
    lean = choose_lean(root, {"ml": ["numpy"], "dev": ["pytest"]}, [], "x", NOT_RUNTIME)
    assert lean.requirements == "requirements/lean.in" and lean.extras == ["ml"]
    assert lean.text is not None and "-r ../requirements/ci.txt\npytest\n" in lean.text
    only_file = write(tmp_path / "b", {"tox.ini": "[testenv]\ndeps = -rreq.txt\n", "req.txt": ""})
    assert choose_lean(only_file, {}, [], "x", NOT_RUNTIME).requirements == "req.txt"


def test_the_extra_that_holds_the_runner_wins(tmp_path):
    extras = {"tests": ["hypothesis-jsonschema"], "dev": ["x[tests]", "pytest", "ruff"]}
    lean = choose_lean(tmp_path, extras, [], "x", NOT_RUNTIME)
    assert lean.extras == ["dev"], "tests has no runner; dev has pytest"
    by_reference = {"tests": ["x[dev]"], "dev": ["pytest"]}
    assert choose_lean(tmp_path, by_reference, [], "x", NOT_RUNTIME).extras == ["tests"]
    no_runner = choose_lean(tmp_path, {"test": ["coverage"]}, [], "x", NOT_RUNTIME)
    assert no_runner.extras == ["test"] and no_runner.text is not None
    assert no_runner.text.endswith("pytest\n"), "a test extra without a runner gets pytest"


def test_a_poetry_group_is_copied_and_a_pep735_group_named(tmp_path):
    poetry = DevGroup(
        "[tool.poetry.group.dev.dependencies]",
        "dev",
        ("pytest>=7.4,<8.0",),
        ("shared = {'path': 'libs/shared'}",),
    )
    lean = choose_lean(tmp_path, {"tests": ["coverage"]}, [poetry], "x", NOT_RUNTIME)
    assert lean.requirements == "requirements/lean.in" and lean.extras == []
    assert lean.text is not None
    assert "pytest>=7.4,<8.0\n" in lean.text
    assert "# not translated: shared = {'path': 'libs/shared'}\n" in lean.text
    assert "copied to requirements/lean.in" in lean.note and "1 entry(ies)" in lean.note
    pep735 = DevGroup("[dependency-groups]", "test", ("pytest",), pep735=True)
    lean = choose_lean(tmp_path, {}, [poetry, pep735], "x", NOT_RUNTIME)
    assert lean.groups == ["test"], "a test-named group ranks first"


def test_nothing_declared_is_pytest(tmp_path):
    lean = choose_lean(tmp_path, {"ml": ["numpy"]}, [], "x", NOT_RUNTIME)
    assert lean.text is not None and lean.text.endswith("pytest\n") and lean.extras == []


def test_tox_installing_only_an_extra(tmp_path):
    root = write(tmp_path, {"tox.ini": "[testenv]\nextras = dev\ncommands = pytest\n"})
    lean = choose_lean(root, {"dev": ["pytest"], "ml": ["numpy"]}, [], "x", NOT_RUNTIME)
    assert lean.extras == ["dev"]
    assert (
        lean.note == "lean profile: the project with its 'dev' extra, as tox.ini [testenv] installs"
    )
    unknown = write(tmp_path / "b", {"tox.ini": "[testenv]\nextras = nope\n"})
    assert choose_lean(unknown, {"tests": ["pytest"]}, [], "x", NOT_RUNTIME).extras == ["tests"]


def test_tox_deps_without_the_runner_lose_to_the_extra_that_holds_it(tmp_path):
    # tqdm's shape: [testenv] deps take pytest from {[core]deps}, which noxgrid does not
    # expand; what it reads holds no runner, and the dev extra has pytest.
    tox = (
        "[core]\ndeps =\n    pytest\n    pytest-cov\n"
        "[testenv]\ndeps =\n    {[core]deps}\n    numpy\n    pandas\n"
        "commands = pytest -k 'not perf'\n"
    )
    root = write(tmp_path, {"tox.ini": tox})
    extras = {"dev": ["pytest>=6", "pytest-cov"], "slack": ["slack-sdk"]}
    lean = choose_lean(root, extras, [], "x", NOT_RUNTIME)
    assert lean.extras == ["dev"] and lean.note == "lean profile: the project with its 'dev' extra"
    assert lean.text is not None and "numpy" not in lean.text
    # with no extra or group holding a runner, tox's deps are still what the project installs
    alone = choose_lean(root, {"slack": ["slack-sdk"]}, [], "x", NOT_RUNTIME)
    assert alone.requirements == "requirements/lean.in" and alone.text is not None
    assert "numpy\npandas\n" in alone.text


def test_tox_runner_from_a_file_or_an_extra_it_names(tmp_path):
    extras = {"dev": ["pytest"], "ml": ["numpy"]}
    by_file = write(
        tmp_path / "a", {"tox.ini": "[testenv]\ndeps = -r req.txt\n", "req.txt": "pytest==8.1\n"}
    )
    assert choose_lean(by_file, extras, [], "x", NOT_RUNTIME).requirements == "req.txt"
    by_extra = write(tmp_path / "b", {"tox.ini": "[testenv]\ndeps = numpy\nextras = tests\n"})
    lean = choose_lean(by_extra, {"tests": ["pytest"], "dev": ["pytest"]}, [], "x", NOT_RUNTIME)
    assert lean.extras == ["tests"] and lean.text is not None and "numpy" in lean.text
