"""The image's import smoke is kept only where its last run recorded what it loaded (the
doctor's reach needs it)."""

from __future__ import annotations

from noxgrid.cell.image_doctor import _rerun_reason
from noxgrid.model.layers import LayerScan, merge
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


def test_the_image_proves_keeps_files_from_its_layers(tmp_path):
    """Synthetic layers: the sync let the other member's copy win; a layer above puts keep's
    back; a layer above that removes it."""
    import pytest

    from noxgrid.cell.image_doctor import prove_kept_image
    from noxgrid.errors import StageFailure
    from noxgrid.tools.layers import LayerFiles, read_layer
    from tests.unit.model.test_kept import CONTRIB, HEADLESS, KEEP, OTHER, SITE, image

    def folder(name: str, files: dict[str, bytes]):
        root = tmp_path / name
        for path, content in files.items():
            (root / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
            (root / path.lstrip("/")).write_bytes(content)
        return root

    synced = folder("l1", image({**CONTRIB, **HEADLESS}).files)
    again = folder("l2", {f"{SITE}/cv2/cv2.abi3.so": b"contrib"})
    folders = [synced, again]
    scans = [read_layer(synced, "sha256:1"), read_layer(again, "sha256:2")]
    groups = [(KEEP, [OTHER])]

    def paths(layers):
        return merge(layers)[0].entries

    with pytest.raises(StageFailure) as failed:
        prove_kept_image(groups, paths(scans[:1]), LayerFiles(folders[:1], scans[:1]))
    assert str(failed.value).startswith(
        f"1 file(s) that {KEEP} shares with {OTHER} are not {KEEP}'s, though the exclusive "
        f"allowance keeps it: cv2/cv2.abi3.so is {OTHER}'s copy; fix: install {KEEP} last"
    )
    assert "KEEP_LAST build argument" in str(failed.value)
    assert prove_kept_image(groups, paths(scans), LayerFiles(folders, scans)) == (
        f"; {KEEP}'s files are the ones in the image (installed last)"
    )
    assert prove_kept_image([], paths(scans), LayerFiles(folders, scans)) == ""
    removed = [*scans, LayerScan(diff_id="sha256:3", removed=[f"{SITE}/cv2/cv2.abi3.so"])]
    with pytest.raises(StageFailure, match="are not .*: cv2/cv2.abi3.so is gone; fix"):
        prove_kept_image(groups, paths(removed), LayerFiles([*folders, tmp_path], removed))
