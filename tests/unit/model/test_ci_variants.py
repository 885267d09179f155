"""A CI-only Dockerfile or requirement file beside the production one, and their drift."""

from __future__ import annotations

from noxgrid.model.ci_variants import ci_variant_drift, read_pins, variants


def test_the_ci_files_and_the_production_ones_are_told_apart(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (tmp_path / "Dockerfile.ci").write_text("FROM python:3.11-slim\n")
    (tmp_path / "requirements.txt").write_text("fastapi==0.115.6\n")
    (tmp_path / "requirements-ci.txt").write_text("-r requirements.txt\npytest\n")
    found = variants(tmp_path)
    assert found.dockerfile == tmp_path / "Dockerfile"
    assert found.ci_dockerfile == tmp_path / "Dockerfile.ci"
    assert found.requirements == tmp_path / "requirements.txt"
    assert found.ci_requirements == tmp_path / "requirements-ci.txt"
    assert ci_variant_drift(tmp_path) == [], "the same Python, pins that agree"
    assert variants(tmp_path / "nothing").dockerfile is None


def test_different_pythons_and_pins_are_drift_with_file_line_and_fix(tmp_path):
    (tmp_path / "Dockerfile").write_text("# prod\nFROM python:3.11-slim-bookworm\n")
    (tmp_path / "Dockerfile.ci").write_text("FROM python:3.10-slim\n")
    (tmp_path / "requirements.txt").write_text(
        "numpy==1.26.4\nrequests>=2.31,<3\nPillow==10.0.0  # images\nuvicorn[standard]==0.30\n"
    )
    (tmp_path / "requirements-ci.txt").write_text(
        "--index-url https://example.org\nnumpy==2.0.0\nrequests==2.20.0\npillow==10.0.0\n"
        "uvicorn>=0.31\n"
    )
    drifts = ci_variant_drift(tmp_path)
    assert [d.where for d in drifts] == [
        "Dockerfile.ci:1",
        "requirements-ci.txt:2",
        "requirements-ci.txt:3",
        "requirements-ci.txt:5",
    ]
    python, numpy, requests, uvicorn = drifts
    assert "builds Python 3.10, but Dockerfile ships Python 3.11 (Dockerfile:2)" in python.message
    assert "3.11" in python.fix
    assert "numpy" in numpy.message and "2.0.0 in CI, 1.26.4 in production" in numpy.message
    assert "requirements.txt:1" in numpy.message and "pin numpy to one version" in numpy.fix
    assert "2.20.0 in CI, which production's" in requests.message
    assert "0.30 in production, which CI's >=0.31 excludes" in uvicorn.message


def test_read_pins_skips_options_includes_and_bad_lines(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("-r other.txt\n# c\n\nnot a requirement!!\nFlask_Cors==4.0 # x\n")
    assert list(read_pins(path)) == ["flask-cors"]
    assert read_pins(tmp_path / "missing.txt") == {}
