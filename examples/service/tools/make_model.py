"""Write src/refservice/model/classifier.onnx from weights.json.

Needs the `onnx` package (not a dependency of the service):
    uv run --with onnx python tools/make_model.py
"""

import json
from pathlib import Path

import onnx
from onnx import TensorProto, helper

HERE = Path(__file__).resolve().parent.parent / "src" / "refservice" / "model"


def main() -> None:
    spec = json.loads((HERE / "weights.json").read_text())
    rows, cols = len(spec["W"]), len(spec["W"][0])
    weights = helper.make_tensor(
        "W", TensorProto.FLOAT, [rows, cols], [v for row in spec["W"] for v in row]
    )
    bias = helper.make_tensor("b", TensorProto.FLOAT, [cols], spec["b"])
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "W"], ["logits_raw"]),
            helper.make_node("Add", ["logits_raw", "b"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        ],
        "page_kind",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", rows])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", cols])],
        initializer=[weights, bias],
    )
    # Opset 13 and IR version 7 load in every onnxruntime the matrix can resolve.
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="refservice"
    )
    model.ir_version = 7
    onnx.checker.check_model(model)
    (HERE / "classifier.onnx").write_bytes(model.SerializeToString())
    print(f"wrote {HERE / 'classifier.onnx'}")


if __name__ == "__main__":
    main()
