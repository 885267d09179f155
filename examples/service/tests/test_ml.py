"""The full profile's ML endpoints; skipped, with the reason, where its packages are absent."""

import base64
import json
import math

import pytest

np = pytest.importorskip("numpy", reason="numpy is installed in the full profile only")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is installed in the full profile only")
lgb = pytest.importorskip("lightgbm", reason="lightgbm is installed in the full profile only")
cv2 = pytest.importorskip(
    "cv2", reason="opencv-python-headless is installed in the full profile only"
)

from refservice import ml  # noqa: E402


def reference_probabilities(features):
    spec = json.loads((ml.MODEL_DIR / "weights.json").read_text())
    logits = np.asarray(features) @ np.asarray(spec["W"]) + np.asarray(spec["b"])
    exp = np.exp(logits - logits.max())
    return exp / exp.sum()


def test_onnx_inference_matches_the_weights():
    features = [math.log1p(800), math.log1p(12), 5.0, 1.0]
    result = ml.classify(features)
    expected = reference_probabilities(features)
    got = np.asarray(list(result["probabilities"].values()))
    assert np.allclose(got, expected, atol=1e-5)
    assert result["label"] == ml.spec()["labels"][int(expected.argmax())]


def test_lightgbm_scores_as_when_the_model_was_written():
    check = json.loads((ml.MODEL_DIR / "ranker_check.json").read_text())
    for row, expected in zip(check["rows"], check["predictions"]):
        assert math.isclose(ml.quality(row), expected, rel_tol=1e-9, abs_tol=1e-12)


def test_quality_endpoint_ranks_a_long_article_above_a_link_farm(client):
    article = [math.log1p(3000), math.log1p(40), 12.0, 1.0]
    link_farm = [math.log1p(20), math.log1p(150), 0.0, 0.0]
    scores = [
        client.post("/ml/quality", json={"features": f}).json()["quality"]
        for f in (article, link_farm)
    ]
    assert scores[0] > scores[1] + 0.3


def test_classify_endpoint(client):
    response = client.post("/ml/classify", json={"features": [5.0, 1.0, 2.0, 0.0]})
    assert response.status_code == 200
    body = response.json()
    assert math.isclose(sum(body["probabilities"].values()), 1.0, rel_tol=1e-5)
    assert body["label"] in ml.spec()["labels"]


def test_classify_page_endpoint(client):
    html = "<html><head><meta property='og:type' content='website'></head><body>"
    html += "".join(f"<a href='/p/{i}'>item {i}</a>" for i in range(40)) + "</body></html>"
    body = client.post("/ml/classify-page", json={"html": html}).json()
    assert body["features"][3] == 1.0
    assert body["label"] == "listing"


def test_thumbnail_endpoint_resizes_and_finds_edges(client):
    image = np.zeros((200, 300, 3), dtype=np.uint8)
    image[50:150, 100:200] = 255  # a white square: its outline is edges
    ok, png = cv2.imencode(".png", image)
    assert ok
    response = client.post(
        "/ml/thumbnail", content=png.tobytes(), headers={"content-type": "image/png"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["original"] == {"width": 300, "height": 200}
    assert body["thumbnail"] == {"width": 64, "height": 43}
    assert body["edge_pixels"] > 50
    thumb = cv2.imdecode(
        np.frombuffer(base64.b64decode(body["png"]), np.uint8), cv2.IMREAD_GRAYSCALE
    )
    assert thumb.shape == (43, 64)


def test_thumbnail_rejects_garbage(client):
    assert client.post("/ml/thumbnail", content=b"not an image").status_code == 422


def test_runtime_info_lists_the_cpu_provider(client):
    info = client.get("/ml/info").json()
    assert "CPUExecutionProvider" in info["providers"]


@pytest.mark.gpu
def test_cuda_provider_is_available():
    """Runs only where a GPU is present (noxgrid deselects it elsewhere, saying why)."""
    assert "CUDAExecutionProvider" in ort.get_available_providers()
