"""What a lean install looks like from the outside: the ML endpoints answer 503, clearly."""

import pytest

from refservice import app as app_module


def test_ml_endpoints_say_what_is_missing_in_lean(client):
    if app_module.ml is not None:
        pytest.skip("the ML side is installed: this cell is a full one")
    response = client.post("/ml/classify", json={"features": [1, 2, 3, 4]})
    assert response.status_code == 503
    assert "full profile" in response.json()["detail"]
