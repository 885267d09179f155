"""Write src/refservice/model/ranker.txt: a small LightGBM model of page quality.

Trained on synthetic pages (a fixed seed) from the same four features the ONNX
classifier reads; ranker_check.json keeps a few rows with the predictions the
model made when it was written, so the tests can tell the shipped model loads
and scores the same. Run it from a full venv:
    .noxgrid/venvs/3.11-cpu-full/bin/python tools/make_ranker.py
"""

import json
import math
from pathlib import Path

import lightgbm as lgb
import numpy as np

HERE = Path(__file__).resolve().parent.parent / "src" / "refservice" / "model"


def quality(words: np.ndarray, links: np.ndarray, headings: np.ndarray, og: np.ndarray):
    """The synthetic target: long, structured pages with few links score high."""
    return (
        0.5 * np.tanh(words / 6.0)
        + 0.2 * np.minimum(headings, 8) / 8
        + 0.2 * og
        - 0.3 * np.tanh(np.maximum(links - words, 0) / 3.0)
    )


def main() -> None:
    rng = np.random.default_rng(20261122)
    n = 2000
    words = np.log1p(rng.integers(0, 5000, n)).astype(float)
    links = np.log1p(rng.integers(0, 300, n)).astype(float)
    headings = rng.integers(0, 15, n).astype(float)
    og = rng.integers(0, 2, n).astype(float)
    features = np.column_stack([words, links, headings, og])
    target = quality(words, links, headings, og) + rng.normal(0, 0.02, n)
    params = {
        "objective": "regression",
        "num_leaves": 8,
        "learning_rate": 0.2,
        "min_data_in_leaf": 20,
        "deterministic": True,
        "num_threads": 1,
        "seed": 7,
        "verbose": -1,
    }
    booster = lgb.train(params, lgb.Dataset(features, target), num_boost_round=30)
    booster.save_model(str(HERE / "ranker.txt"))
    rows = [
        [math.log1p(800), math.log1p(12), 5.0, 1.0],
        [math.log1p(20), math.log1p(150), 0.0, 0.0],
        [math.log1p(3000), math.log1p(40), 12.0, 1.0],
    ]
    check = {"rows": rows, "predictions": booster.predict(np.asarray(rows)).tolist()}
    (HERE / "ranker_check.json").write_text(json.dumps(check, indent=2) + "\n")


if __name__ == "__main__":
    main()
