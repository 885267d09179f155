"""Release reports (HTML, Markdown, JSON, JUnit, merging), the live view, and init's plan."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from noxgrid.cell.progress import LiveProgress, PlainProgress, choose_progress, live_lines
from noxgrid.commands.release_report import collect_results, markdown_report, write_release
from noxgrid.errors import ConfigError
from noxgrid.init.plan import plan_init, render_table, scaffold_files, workflow_choice
from noxgrid.model.declaration import load_config
from noxgrid.model.matrix import Cell
from noxgrid.model.results import STAGES, CellResult, Release, StageResult, Status, release_stages
from noxgrid.render.html import render_html


def result(
    cell_id: str,
    *,
    fail: str | None = None,
    started: str = "2026-11-22T10:00:00+00:00",
    skip: tuple[str, ...] = (),
):
    python, accelerator, profile = cell_id.split("-")
    stages = [
        StageResult(name=name, status=Status.PASSED, duration=0.1)
        for name in ("interpreter", "lock", "venv")
    ]
    stages += [
        StageResult(name="install", status=Status.PASSED, duration=1.5),
        StageResult(
            name="doctor",
            status=Status.FAILED if fail else Status.PASSED,
            duration=0.4,
            detail=fail or "9 ELF files, every library found",
        ),
        StageResult(
            name="suite",
            status=Status.SKIPPED if fail else Status.PASSED,
            duration=0.0 if fail else 2.0,
            detail="not run: an earlier stage failed" if fail else "12 passed",
        ),
    ]
    for name in ("image", "smoke"):
        skipped = fail or name in skip
        stages.insert(
            -1,
            StageResult(
                name=name,
                status=Status.SKIPPED if skipped else Status.PASSED,
                duration=0.0 if skipped else 3.0,
                detail="skipped: --no-docker" if name in skip else "",
            ),
        )
    return CellResult(
        cell=Cell(python=python, accelerator=accelerator, profile=profile),
        stages=tuple(stages),
        started_at=started,
        duration=sum(s.duration for s in stages),
        venv_size=50_000_000,
        image_size=None if fail else 280_000_000,
    )


RESULTS = [
    result("3.9-cpu-lean"),
    result("3.10-cpu-lean", fail="libGL.so.1 -> Debian package libgl1: needed by cv2 <&>"),
    result("3.11-cpu-lean"),
    result("3.11-gpu-full"),
]
CELLS = [r.cell for r in RESULTS]


def release(results=RESULTS, expected=CELLS, findings=(), image=True):
    return Release(
        results=tuple(results),
        expected=tuple(expected),
        findings=tuple(findings),
        required=release_stages(image),
    )


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells: list[dict[str, str]] = []
        self.svg = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "td" and "cell" in (attributes.get("class") or "").split():
            self.cells.append(attributes)
        if tag == "svg":
            self.svg += 1


def test_html_grid_has_one_coloured_box_per_cell_and_two_plots():
    page = render_html(release(), title="release", generated="noxgrid test")
    parser = Collector()
    parser.feed(page)
    assert len(parser.cells) == 4 and parser.svg == 2
    failed = [c for c in parser.cells if "failed" in c["class"].split()]
    assert len(failed) == 1 and "#c62828" in failed[0]["style"]
    assert failed[0]["title"].startswith("doctor: libGL.so.1 -> Debian package libgl1")
    assert "<&>" not in page and "&lt;&amp;&gt;" in page, "details are escaped"
    assert "FAILED: 1 of 4 cells failed" in page
    # Rows are profile x accelerator, columns Pythons: a cell off the matrix says so.
    assert page.count("not in the matrix") == 2
    assert "<script" not in page, "self-contained, no script"


def test_verdict_markdown_and_drift():
    drift = [{"kind": "python", "where": "tox.ini:3", "message": "says 3.8", "fix": "add it"}]
    one = release(RESULTS[:1], CELLS[:1])
    assert one.passed and one.verdict() == "PASSED: 1 of 1 cells verified"
    assert release(findings=drift).verdict() == "FAILED: 1 of 4 cells failed, 1 drift finding(s)"
    assert release([], CELLS).verdict() == "FAILED: 4 of 4 cells missing"
    assert not release([], []).passed, "nothing expected is no release"
    text = markdown_report(release(findings=drift), title="Release")
    assert "- `3.10-cpu-lean`: **FAILED**: doctor: libGL.so.1" in text
    assert "- tox.ini:3: says 3.8 (fix: add it)" in text


def test_a_release_covers_the_whole_matrix_missing_cells_fail_it():
    # One cell's result shown, twelve expected: the verdict is not PASSED: 1 cells.
    matrix = [
        Cell(python=p, accelerator=a, profile=f)
        for f in ("lean", "full")
        for p in ("3.9", "3.10", "3.11")
        for a in ("cpu", "gpu")
    ]
    only = release([result("3.11-cpu-lean")], matrix)
    assert not only.passed
    assert only.verdict() == "FAILED: 11 of 12 cells missing"
    problems = only.cell_problems()
    assert len(problems) == 11 and all(what == "MISSING" for _, what, _ in problems)
    assert problems[0][0] == "3.9-cpu-lean", "in matrix order"
    page = render_html(only, title="t", generated="g")
    assert page.count('class="cell missing"') == 11


def test_cells_whose_image_was_skipped_are_not_verified_for_release():
    skipped = [result(c.id, skip=("image", "smoke")) for c in CELLS[:1]]
    verdict = release(skipped, CELLS[:1])
    assert not verdict.passed
    ((cell_id, what, why),) = verdict.cell_problems()
    assert (cell_id, what) == ("3.9-cpu-lean", "NOT VERIFIED")
    assert "image skipped (skipped: --no-docker)" in why
    # Without a declared image, image and smoke are not required.
    assert release(skipped, CELLS[:1], image=False).passed
    # A result without the suite (noxgrid image runs lock, image, smoke) is not verified.
    partial = result("3.9-cpu-lean")
    partial = CellResult(
        cell=partial.cell,
        stages=tuple(s for s in partial.stages if s.name != "suite"),
        started_at=partial.started_at,
        duration=1.0,
    )
    assert "suite did not run" in release([partial], CELLS[:1]).cell_problems()[0][2]
    assert set(release_stages(True)) == set(STAGES)


def test_write_release_writes_four_files_and_the_step_summary(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    paths = write_release(
        release(), tmp_path / "out", title="T", env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert sorted(p.name for p in paths.values()) == [
        "release.html",
        "release.json",
        "release.md",
        "release.xml",
    ]
    document = json.loads(paths["json"].read_text())
    assert document["status"] == "failed" and document["failed"][0]["cell"] == "3.10-cpu-lean"
    assert len(document["cells"]) == 4
    junit = ET.parse(paths["xml"]).getroot()
    assert len(junit.findall("testsuite")) == 4
    assert summary.read_text().startswith("earlier step\n## T")
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_collect_results_merges_job_artifacts_latest_wins(tmp_path):
    older = result("3.10-cpu-lean", fail="boom", started="2026-11-22T09:00:00+00:00")
    newer = result("3.10-cpu-lean", started="2026-11-22T11:00:00+00:00")
    for job, item in (("job-a", older), ("job-b", newer), ("job-c", RESULTS[0])):
        folder = tmp_path / job / ".noxgrid" / "reports"
        folder.mkdir(parents=True)
        (folder / f"{item.cell.id}.json").write_text(json.dumps(item.as_dict()))
    (tmp_path / "job-c" / "other.json").write_text('{"not": "a cell"}')
    (tmp_path / "job-c" / ".noxgrid" / "reports" / "doctor").mkdir()
    (tmp_path / "job-c" / ".noxgrid" / "reports" / "doctor" / "3.9-cpu-lean.json").write_text("{}")
    results, skipped = collect_results([tmp_path])
    assert [r.cell.id for r in results] == ["3.9-cpu-lean", "3.10-cpu-lean"]
    assert results[1].status is Status.PASSED, "the later run of a cell wins"
    assert skipped == [str(tmp_path / "job-c" / "other.json")]


def test_live_lines_show_stage_time_and_counts():
    view = LiveProgress([r.cell for r in RESULTS], stream=io.StringIO())
    cell = RESULTS[0].cell
    view.cell_start(cell)
    view.stage_start(cell, "install", "the lock")
    view.output(cell, "Installed 3 packages\n")
    row = view.rows[cell.id]
    lines = live_lines(list(view.rows.values()), row.stage_started + 2.0, 200)
    assert lines[0].startswith("▶ 3.9-cpu-lean") and "install  2.0s" in lines[0]
    assert lines[0].endswith("| Installed 3 packages")
    assert lines[1].startswith("· 3.10-cpu-lean") and "waiting" in lines[1]
    assert lines[-1] == "0 passed, 0 failed, 1 running, 3 waiting"
    view.stage_end(cell, next(s for s in RESULTS[0].stages if s.name == "interpreter"))
    view.cell_end(RESULTS[0])
    lines = live_lines(list(view.rows.values()), row.stage_started + 5.0, 30)
    assert lines[0].startswith("✓ 3.9-cpu-lean") and len(lines[0]) <= 30


def test_live_view_draws_in_place_and_prints_failures_above():
    stream = io.StringIO()
    cells = [r.cell for r in RESULTS[:2]]
    with LiveProgress(cells, stream=stream, interval=60) as view:
        view.cell_start(cells[1])
        view.stage_start(cells[1], "doctor", "audit")
        view.stage_end(cells[1], next(s for s in RESULTS[1].stages if s.name == "doctor"))
        view.cell_end(RESULTS[1])
    text = stream.getvalue()
    assert "\x1b[3F\x1b[J" in text, "the block is redrawn in place"
    assert "[3.10-cpu-lean] doctor failed in 0.4s - libGL.so.1 -> Debian package" in text
    assert text.rstrip().endswith("0 passed, 1 failed, 0 running, 1 waiting")


def test_choose_progress_is_live_only_on_an_interactive_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    cells = [RESULTS[0].cell]
    assert isinstance(choose_progress(cells, Tty(), quiet=False, jobs=1, env={}), LiveProgress)
    for env in ({"CI": "true"}, {"GITHUB_ACTIONS": "true"}, {"TERM": "dumb"}):
        assert isinstance(
            choose_progress(cells, Tty(), quiet=False, jobs=1, env=env), PlainProgress
        )
    assert isinstance(
        choose_progress(cells, io.StringIO(), quiet=False, jobs=1, env={}), PlainProgress
    )
    forced = choose_progress(
        cells, io.StringIO(), quiet=False, jobs=1, env={"NOXGRID_PROGRESS": "live"}
    )
    assert isinstance(forced, LiveProgress)


def has(*versions):
    return lambda version: version in versions


def test_init_plan_from_classifiers_extras_and_test_files(tmp_path):
    project = {
        "name": "slug",
        "requires-python": ">=3.9",
        "classifiers": [
            "Programming Language :: Python :: 3.10",
            "Programming Language :: Python :: 3.11",
            "Programming Language :: Python :: 3.13",
        ],
        "optional-dependencies": {"unidecode": ["Unidecode"], "tests": ["pytest"], "docs": []},
    }
    plan = plan_init(project, tmp_path, available=has("3.10", "3.11"))
    assert plan.pythons == ["3.10", "3.11"], "3.13 has no interpreter here: left out"
    assert any("left out python 3.13: no interpreter" in note for note in plan.notes)
    assert [(item.python, item.reason) for item in plan.left_out] == [
        ("3.13", "no interpreter for it on this machine")
    ]
    assert "# left out python 3.13: no interpreter" in render_table(plan)
    assert plan.lean_requirements == "requirements/lean.in" and plan.lean_extras == ["tests"]
    assert plan.full_extras == ["tests", "unidecode"]
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "tests.in").write_text("pytest\nfreezegun\n")
    plan = plan_init({"name": "x", "requires-python": ">=3.8"}, tmp_path, available=has("3.12"))
    assert plan.pythons == ["3.12"] and plan.lean_text is None
    assert plan.lean_requirements == "requirements/tests.in" and plan.full_extras == []
    plan = plan_init({"name": "x"}, tmp_path / "nowhere", available=has())
    assert plan.pythons == ["3.9", "3.10", "3.11"], "nothing found: the default axis"
    groups = {"dev": ["pytest>=8", {"include-group": "lint"}]}
    plan = plan_init({"name": "x"}, tmp_path / "g", available=has("3.11"), dependency_groups=groups)
    assert plan.lean_groups == ["dev"], "a PEP 735 group is named, include-group and all"
    assert 'groups = ["dev"]' in render_table(plan)
    with pytest.raises(ConfigError, match="requires-python"):
        plan_init({"requires-python": "~=2.7"}, tmp_path, available=has())


def test_init_scaffold_is_a_valid_declaration_and_keeps_existing_files(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "1"\n')
    (tmp_path / "noxfile.py").write_text("# the team's own\n")
    project = {"name": "demo", "optional-dependencies": {"ml": ["numpy"]}}
    plan = plan_init(project, tmp_path, available=has("3.11", "3.12"))
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    path = workflow_choice(tmp_path, force=False)
    assert path == ".github/workflows/noxgrid.yml"
    fates, files = scaffold_files(
        tmp_path,
        plan,
        force=False,
        pyproject_text=(tmp_path / "pyproject.toml").read_text(),
        workflow_path=path,
    )
    actions = {fate.path: fate.action for fate in fates}
    assert actions["noxfile.py"].startswith("kept")
    assert actions["requirements/lean.in"] == "written"
    assert tmp_path / "noxfile.py" not in files
    for target, text in files.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    config = load_config(tmp_path)
    assert config.pythons == ("3.11", "3.12") and set(config.profiles) == {"lean", "full"}
    assert config.profiles["full"].extras == ("ml",)
    assert config.docker.image is None, "no image until the project declares one"
    assert config.workflow_file == tmp_path / ".github" / "workflows" / "noxgrid.yml"
    assert 'image = "demo"' in render_table(plan), "the image line is there, commented"
    _, forced = scaffold_files(tmp_path, plan, force=True, pyproject_text="", workflow_path=None)
    assert tmp_path / "noxfile.py" in forced
    # setuptools (no build-system) in a flat layout: a docker/ folder would break its build
    assert config.docker.dockerfile == "Dockerfile"
    assert (tmp_path / "Dockerfile").read_text().startswith("# One Dockerfile")
    assert Path(tmp_path / ".dockerignore").read_text().startswith(".git\n")
