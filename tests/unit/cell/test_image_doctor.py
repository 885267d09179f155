"""The image's import smoke is kept only where its last run recorded what it loaded (the
doctor's reach needs it)."""

from __future__ import annotations

from noxgrid.cell.image_doctor import _rerun_reason
from noxgrid.model.layers import LayerScan
from noxgrid.tools.layers import LayerStore


def test_a_smoke_record_without_what_it_loaded_runs_the_smoke_again(tmp_path):
    store = LayerStore(tmp_path / "layers")
    scans = [LayerScan(diff_id="sha256:a")]
    key = {"env": [], "user": "", "distributions": ["numpy"]}
    record = {"layers": ["sha256:a"], "key": key, "imported": ["numpy"], "trace": {}}
    assert _rerun_reason(record, key, store, scans) == (
        "its last run did not record the libraries it loaded"
    )
    assert _rerun_reason({**record, "loaded": []}, key, store, scans) is None
