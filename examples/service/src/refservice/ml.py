"""The ML side (full profile): ONNX Runtime inference, a LightGBM score, OpenCV image work.

Importing this module needs numpy, onnxruntime, lightgbm (whose library links
the system's OpenMP, libgomp.so.1) and opencv-python-headless; the app mounts
its endpoints only when they import.
"""

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Sequence

import cv2
import lightgbm as lgb
import numpy as np
import onnxruntime as ort

MODEL_DIR = Path(__file__).resolve().parent / "model"


@lru_cache(maxsize=1)
def spec() -> Dict[str, object]:
    """Labels, feature names and the weights the ONNX model was made from."""
    return json.loads((MODEL_DIR / "weights.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def session() -> "ort.InferenceSession":
    """One CPU inference session for the page-kind model."""
    return ort.InferenceSession(
        str(MODEL_DIR / "classifier.onnx"), providers=["CPUExecutionProvider"]
    )


@lru_cache(maxsize=1)
def ranker() -> "lgb.Booster":
    """The page-quality model (tools/make_ranker.py wrote it)."""
    return lgb.Booster(model_file=str(MODEL_DIR / "ranker.txt"))


def quality(features: Sequence[float]) -> float:
    """LightGBM's page-quality score for one feature vector."""
    batch = np.asarray([features], dtype=np.float64)
    return float(ranker().predict(batch, num_threads=1)[0])


def page_features(meta: Dict[str, object]) -> List[float]:
    """The model's inputs, computed from the output of pagemeta.extract."""
    words = int(meta.get("word_count") or 0)  # type: ignore[arg-type]
    links = len(meta.get("links") or [])  # type: ignore[arg-type]
    headings = len(meta.get("headings") or [])  # type: ignore[arg-type]
    has_og = 1.0 if meta.get("open_graph") else 0.0
    return [math.log1p(words), math.log1p(links), float(headings), has_og]


def classify(features: Sequence[float]) -> Dict[str, object]:
    """Run the ONNX model on one feature vector."""
    labels = spec()["labels"]
    batch = np.asarray([features], dtype=np.float32)
    (probabilities,) = session().run(["probabilities"], {"features": batch})
    row = probabilities[0].tolist()
    best = int(np.argmax(probabilities[0]))
    return {"label": labels[best], "probabilities": dict(zip(labels, row))}  # type: ignore[index]


def thumbnail(data: bytes, max_side: int = 64) -> Dict[str, object]:
    """Decode an image, shrink it to ``max_side``, find its edges, re-encode as PNG."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("not an image OpenCV can decode")
    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    edges = cv2.Canny(gray, 50, 150)
    ok, png = cv2.imencode(".png", gray)
    if not ok:
        raise ValueError("could not encode the thumbnail")
    return {
        "original": {"width": width, "height": height},
        "thumbnail": {"width": size[0], "height": size[1]},
        "edge_pixels": int(np.count_nonzero(edges)),
        "mean_intensity": float(gray.mean()),
        "png": png.tobytes(),
    }


def runtime_info() -> Dict[str, object]:
    """Versions and ONNX Runtime's execution providers (CUDA shows up on a GPU build)."""
    return {
        "onnxruntime": ort.__version__,
        "lightgbm": lgb.__version__,
        "providers": ort.get_available_providers(),
        "opencv": cv2.__version__,
        "numpy": np.__version__,
    }
