"""The line-based YAML reader: structure, scalars, block scalars, each value's line."""

from __future__ import annotations

from noxgrid.model.yamllite import parse

DOCUMENT = """\
# a comment
name: "ci"   # trailing comment
on: [push, pull_request]
jobs:
  test:
    strategy:
      matrix:
        python-version:
        - "3.10"
        - '3.11'
        include: [{python-version: "3.12", os: x}]
    steps:
      - uses: actions/checkout@v4
      - name: run
        run: |
          cd api  # not a YAML comment
          pytest -m "not slow"

      - run: echo done
services:
  api:
    healthcheck:
      test: ["CMD", "curl",
             "-f", "http://localhost:80/health"]
"""


def test_mappings_sequences_and_lines():
    top = parse(DOCUMENT)
    assert top.get("name").text == "ci"
    assert [n.text for n in top.get("on").items()] == ["push", "pull_request"]
    versions = top.get("jobs", "test", "strategy", "matrix", "python-version")
    assert [(n.text, n.line) for n in versions.items()] == [("3.10", 9), ("3.11", 10)]
    include = top.get("jobs", "test", "strategy", "matrix", "include").items()
    assert include[0].get("python-version").text == "3.12"
    assert include[0].get("os").text == "x"


def test_block_scalars_keep_each_line_and_hash_inside():
    steps = parse(DOCUMENT).get("jobs", "test", "steps").items()
    assert steps[0].get("uses").text == "actions/checkout@v4"
    run = steps[1].get("run")
    assert run.text_lines() == [
        (16, "cd api  # not a YAML comment"),
        (17, 'pytest -m "not slow"'),
    ]
    assert steps[2].get("run").text == "echo done"
    assert steps[2].get("run").line == 19


def test_flow_lists_over_several_lines():
    test = parse(DOCUMENT).get("services", "api", "healthcheck", "test")
    assert [n.text for n in test.items()] == ["CMD", "curl", "-f", "http://localhost:80/health"]
    assert test.line == 23


def test_a_url_is_a_scalar_not_a_key_and_missing_keys_are_none():
    top = parse("url: http://x:80/a\nlist:\n- a: 1\n  b: 2\n- 8080:80\n")
    assert top.get("url").text == "http://x:80/a"
    items = top.get("list").items()
    assert items[0].get("b").text == "2"
    assert items[1].text == "8080:80"
    assert top.get("nothing", "here") is None
    assert parse("").mapping() == {}


def test_continued_plain_scalars_and_stray_lines_do_not_lose_the_rest():
    text = """\
jobs:
  a:
    steps:
      - run: pip install -r a.txt
          -r b.txt
      - run: pytest
  b:
    note:
      plain text
      more
    broken: [1, 2
    steps:
      - run: pytest x
"""
    jobs = parse(text).get("jobs")
    assert list(jobs.mapping()) == ["a", "b"]
    runs = [step.get("run").text for step in jobs.get("a", "steps").items()]
    assert runs == ["pip install -r a.txt -r b.txt", "pytest"]
    assert jobs.get("b", "note").text == "plain text more"
    assert jobs.get("b", "steps").items()[0].get("run").text == "pytest x"
