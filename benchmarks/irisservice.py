"""The FastAPI + scikit-learn service bench_cold_projects.py assembles: a model trained at
start-up, predictions over HTTP, tests through TestClient (real packages from PyPI)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

# The one-cell lean table bench_cold_projects.py adds to each project it assembles.
LEAN_TABLE = """
[tool.noxgrid]
python = ["3.11"]
accelerators = ["cpu"]
profiles = ["lean"]

[tool.noxgrid.profile.lean]
requirements = ["{requirements}"]
"""

ML_PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "irisservice"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = []

[tool.setuptools.packages.find]
where = ["src"]
""" + LEAN_TABLE.format(requirements="requirements/lean.in")

ML_APP = '''
"""A model trained at start-up and served over HTTP."""

from fastapi import FastAPI
from pydantic import BaseModel
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

_iris = load_iris()
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
model.fit(_iris.data, _iris.target)
app = FastAPI()


class Flower(BaseModel):
    features: list[float]


@app.get("/ready")
def ready() -> dict:
    return {"ok": True}


@app.post("/predict")
def predict(flower: Flower) -> dict:
    label = int(model.predict([flower.features])[0])
    return {"label": label, "name": str(_iris.target_names[label])}
'''

ML_TEST = """
from fastapi.testclient import TestClient

from irisservice.app import app, model

client = TestClient(app)


def test_ready():
    assert client.get("/ready").json() == {"ok": True}


def test_predict_setosa():
    answer = client.post("/predict", json={"features": [5.1, 3.5, 1.4, 0.2]}).json()
    assert answer["name"] == "setosa"


def test_bad_input():
    assert client.post("/predict", json={"features": "x"}).status_code == 422


def test_model_score():
    from sklearn.datasets import load_iris

    iris = load_iris()
    assert model.score(iris.data, iris.target) > 0.9
"""


def mlservice(folder: Path, env: Mapping[str, str]) -> Path:
    project = folder / "irisservice"
    (project / "src" / "irisservice").mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "requirements").mkdir()
    (project / "pyproject.toml").write_text(ML_PYPROJECT)
    (project / "requirements" / "lean.in").write_text(
        "fastapi>=0.110\nscikit-learn>=1.4\nhttpx\npytest\n"
    )
    (project / "src" / "irisservice" / "__init__.py").write_text("")
    (project / "src" / "irisservice" / "app.py").write_text(ML_APP)
    (project / "tests" / "test_app.py").write_text(ML_TEST)
    return project
