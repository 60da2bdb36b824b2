"""Convert the small TFLite models that ship in the mediapipe wheel to ONNX.

Only the operators those models use are handled (convolutions, depthwise convolutions, pooling,
the activations, element-wise add and multiply, bilinear resize, padding, reshape, concatenation
and mediapipe's transposed convolution). Weights stored as float16 are widened to float32, so
the ONNX graph computes what the TFLite one does in float. Activations are kept channels-first
(ONNX's layout); TFLite's channels-last constants are transposed on the way.

Needs the `tflite` flatbuffer reader and `onnx` (the `convert` extra); nothing here runs in
the app, which only loads the ONNX files this writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

NCHW_FROM_NHWC = [0, 3, 1, 2]
NHWC_FROM_NCHW = [0, 2, 3, 1]


class UnsupportedModel(ValueError):
    """The TFLite file uses an operator this converter does not handle."""


def _tflite() -> Any:
    import tflite  # the `convert` extra

    return tflite


class _Converter:
    def __init__(self, data: bytes) -> None:
        from onnx import helper

        self.tfl = _tflite()
        self.helper = helper
        self.model = self.tfl.Model.GetRootAsModel(data, 0)
        self.graph = self.model.Subgraphs(0)
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.consts: dict[int, np.ndarray] = {}
        self.layout: dict[int, str] = {}  # tensor index -> "nchw" or "plain"
        self.names: dict[int, str] = {}
        self._count = 0
        self._op_names = {
            v: k for k, v in vars(self.tfl.BuiltinOperator).items() if not k.startswith("_")
        }

    # ---- tensors
    def _name(self, index: int) -> str:
        if index not in self.names:
            raw = self.graph.Tensors(index).Name().decode()
            self.names[index] = f"t{index}_{raw}".replace(":", "_")
        return self.names[index]

    def _shape(self, index: int) -> list[int]:
        t = self.graph.Tensors(index)
        return [int(v) for v in t.ShapeAsNumpy()] if t.ShapeLength() else []

    def _buffer(self, index: int) -> np.ndarray | None:
        t = self.graph.Tensors(index)
        buf = self.model.Buffers(t.Buffer())
        if buf is None or buf.DataLength() == 0:
            return None
        dtypes = {
            self.tfl.TensorType.FLOAT32: np.float32,
            self.tfl.TensorType.FLOAT16: np.float16,
            self.tfl.TensorType.INT32: np.int32,
            self.tfl.TensorType.INT64: np.int64,
        }
        if t.Type() not in dtypes:
            raise UnsupportedModel(f"tensor {t.Name().decode()} has an unsupported type {t.Type()}")
        raw = buf.DataAsNumpy().tobytes()
        return np.frombuffer(raw, dtype=dtypes[t.Type()]).reshape(self._shape(index)).copy()

    def _const(self, index: int) -> np.ndarray | None:
        if index in self.consts:
            return self.consts[index]
        value = self._buffer(index)
        if value is not None:
            self.consts[index] = value
        return value

    def _fresh(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def _init(self, value: np.ndarray, stem: str) -> str:
        from onnx import numpy_helper

        name = self._fresh(stem)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def _node(self, op: str, inputs: list[str], outputs: list[str], **attrs: Any) -> None:
        self.nodes.append(self.helper.make_node(op, inputs, outputs, **attrs))

    def _operand(self, index: int, *, rank4_nchw: bool = True) -> str:
        """The ONNX name for a tensor used as an input; constants become initialisers."""
        value = self._const(index)
        if value is None:
            return self._name(index)
        value = value.astype(np.float32) if value.dtype == np.float16 else value
        if rank4_nchw and value.ndim == 4:
            value = value.transpose(NCHW_FROM_NHWC)
        return self._init(value, "const")

    def _activation(self, out: str, fused: int) -> str:
        """Apply a fused activation to `out`; returns the name that holds the result."""
        kinds = self.tfl.ActivationFunctionType
        if fused == kinds.NONE:
            return out
        result = self._fresh(out + "_act")
        if fused == kinds.RELU:
            self._node("Relu", [out], [result])
        elif fused == kinds.RELU6:
            self._node(
                "Clip",
                [out, self._init(np.float32(0), "lo"), self._init(np.float32(6), "hi")],
                [result],
            )
        else:
            raise UnsupportedModel(f"fused activation {fused} is not handled")
        return result

    def _finish(self, produced: str, index: int) -> None:
        self._node("Identity", [produced], [self._name(index)])

    # ---- operators
    def convert(self) -> Any:
        g = self.graph
        for k in range(g.InputsLength()):
            self.layout[int(g.Inputs(k))] = "nchw"
        for i in range(g.OperatorsLength()):
            op = g.Operators(i)
            code_table = self.model.OperatorCodes(op.OpcodeIndex())
            code = max(code_table.BuiltinCode(), code_table.DeprecatedBuiltinCode())
            name = self._op_names.get(code, str(code))
            ins = [int(v) for v in op.InputsAsNumpy()]
            outs = [int(v) for v in op.OutputsAsNumpy()]
            if name == "CUSTOM":
                custom = code_table.CustomCode().decode()
                if custom != "Convolution2DTransposeBias":
                    raise UnsupportedModel(f"custom operator {custom} is not handled")
                self._transpose_conv(op, ins, outs)
                continue
            handler = getattr(self, "_op_" + name.lower(), None)
            if handler is None:
                raise UnsupportedModel(f"operator {name} is not handled")
            handler(op, ins, outs)
        inputs = []
        for k in range(g.InputsLength()):
            idx = int(g.Inputs(k))
            n, h, w, c = self._shape(idx)
            inputs.append(self.helper.make_tensor_value_info(self._name(idx), 1, [n, c, h, w]))
        outputs = []
        for k in range(g.OutputsLength()):
            idx = int(g.Outputs(k))
            shape = self._shape(idx)
            if self.layout.get(idx) == "nchw":
                shape = [shape[j] for j in NCHW_FROM_NHWC]
            outputs.append(self.helper.make_tensor_value_info(self._name(idx), 1, shape))
        graph = self.helper.make_graph(self.nodes, "converted", inputs, outputs, self.inits)
        model = self.helper.make_model(
            graph, opset_imports=[self.helper.make_opsetid("", 17)], producer_name="saree_app"
        )
        model.ir_version = 8
        return model

    def _mark(self, outs: list[int], layout: str = "nchw") -> None:
        for o in outs:
            self.layout[o] = layout

    def _op_dequantize(self, op: Any, ins: list[int], outs: list[int]) -> None:
        value = self._const(ins[0])
        if value is None:
            raise UnsupportedModel("DEQUANTIZE of a computed tensor is not handled")
        self.consts[outs[0]] = value.astype(np.float32)

    def _pads(
        self,
        ins: list[int],
        outs: list[int],
        kernel: tuple[int, int],
        stride: tuple[int, int],
        dilation: tuple[int, int] = (1, 1),
    ) -> list[int]:
        """Explicit ONNX pads for TFLite's SAME/VALID (TF puts the odd pixel at the end)."""
        (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
        _, ih, iw, _ = self._shape(ins[0])
        _, oh, ow, _ = self._shape(outs[0])
        ph = max((oh - 1) * sh + (kh - 1) * dh + 1 - ih, 0)
        pw = max((ow - 1) * sw + (kw - 1) * dw + 1 - iw, 0)
        return [ph // 2, pw // 2, ph - ph // 2, pw - pw // 2]

    def _conv(self, op: Any, ins: list[int], outs: list[int], depthwise: bool) -> None:
        tfl = self.tfl
        opts_table = op.BuiltinOptions()
        opts = tfl.DepthwiseConv2DOptions() if depthwise else tfl.Conv2DOptions()
        opts.Init(opts_table.Bytes, opts_table.Pos)
        weight = self._const(ins[1])
        if weight is None:
            raise UnsupportedModel("convolution weights must be constants")
        weight = weight.astype(np.float32)
        if depthwise:
            # [1, kh, kw, C*M] -> [C*M, 1, kh, kw], one group per input channel.
            channels = self._shape(ins[0])[3]
            onnx_w = weight.transpose(3, 0, 1, 2)
            group = channels
        else:
            onnx_w = weight.transpose(0, 3, 1, 2)  # [O, kh, kw, I] -> [O, I, kh, kw]
            group = 1
        kh, kw = onnx_w.shape[2], onnx_w.shape[3]
        sh, sw = opts.StrideH(), opts.StrideW()
        dh, dw = opts.DilationHFactor() or 1, opts.DilationWFactor() or 1
        pads = self._pads(ins, outs, (kh, kw), (sh, sw), (dh, dw))
        inputs = [self._operand(ins[0]), self._init(onnx_w, "w")]
        if len(ins) > 2 and ins[2] >= 0:
            bias = self._const(ins[2])
            if bias is not None:
                inputs.append(self._init(bias.astype(np.float32), "b"))
        raw = self._fresh("conv")
        self._node(
            "Conv",
            inputs,
            [raw],
            strides=[sh, sw],
            pads=pads,
            group=group,
            dilations=[dh, dw],
            kernel_shape=[kh, kw],
        )
        self._finish(self._activation(raw, opts.FusedActivationFunction()), outs[0])
        self._mark(outs)

    def _op_conv_2d(self, op: Any, ins: list[int], outs: list[int]) -> None:
        self._conv(op, ins, outs, depthwise=False)

    def _op_depthwise_conv_2d(self, op: Any, ins: list[int], outs: list[int]) -> None:
        self._conv(op, ins, outs, depthwise=True)

    def _transpose_conv(self, op: Any, ins: list[int], outs: list[int]) -> None:
        # mediapipe's custom op: TfLiteTransposeConvParams (padding, stride_w, stride_h) as
        # three little-endian int32s in the custom options.
        raw_opts = op.CustomOptionsAsNumpy().tobytes()
        padding, stride_w, stride_h = np.frombuffer(raw_opts[:12], dtype="<i4").tolist()
        weight = self._const(ins[1])
        bias = self._const(ins[2])
        if weight is None or bias is None:
            raise UnsupportedModel("transposed convolution weights must be constants")
        onnx_w = weight.astype(np.float32).transpose(3, 0, 1, 2)  # [O,kh,kw,I] -> [I,O,kh,kw]
        _, ih, iw, _ = self._shape(ins[0])
        _, oh, ow, _ = self._shape(outs[0])
        kh, kw = onnx_w.shape[2], onnx_w.shape[3]
        th = (ih - 1) * stride_h + kh - oh
        tw = (iw - 1) * stride_w + kw - ow
        pads = [th // 2, tw // 2, th - th // 2, tw - tw // 2]
        del padding  # SAME here means "output = input x stride", which the pads above give
        self._node(
            "ConvTranspose",
            [
                self._operand(ins[0]),
                self._init(onnx_w, "w"),
                self._init(bias.astype(np.float32), "b"),
            ],
            [self._name(outs[0])],
            strides=[stride_h, stride_w],
            pads=pads,
            kernel_shape=[kh, kw],
        )
        self._mark(outs)

    def _unary(self, onnx_op: str, ins: list[int], outs: list[int]) -> None:
        self._node(onnx_op, [self._operand(ins[0])], [self._name(outs[0])])
        self._mark(outs, self.layout.get(ins[0], "plain"))

    def _op_relu(self, op: Any, ins: list[int], outs: list[int]) -> None:
        self._unary("Relu", ins, outs)

    def _op_logistic(self, op: Any, ins: list[int], outs: list[int]) -> None:
        self._unary("Sigmoid", ins, outs)

    def _op_hard_swish(self, op: Any, ins: list[int], outs: list[int]) -> None:
        self._unary("HardSwish", ins, outs)

    def _binary(self, onnx_op: str, op: Any, ins: list[int], outs: list[int], opts: Any) -> None:
        table = op.BuiltinOptions()
        fused = 0
        if table is not None:
            opts.Init(table.Bytes, table.Pos)
            fused = opts.FusedActivationFunction()
        a = self._operand(ins[0])
        b = self._operand(ins[1])
        raw = self._fresh(onnx_op.lower())
        self._node(onnx_op, [a, b], [raw])
        self._finish(self._activation(raw, fused), outs[0])
        self._mark(outs, self.layout.get(ins[0], self.layout.get(ins[1], "plain")))

    def _op_add(self, op: Any, ins: list[int], outs: list[int]) -> None:
        self._binary("Add", op, ins, outs, self.tfl.AddOptions())

    def _op_mul(self, op: Any, ins: list[int], outs: list[int]) -> None:
        self._binary("Mul", op, ins, outs, self.tfl.MulOptions())

    def _pool(self, onnx_op: str, op: Any, ins: list[int], outs: list[int]) -> None:
        opts = self.tfl.Pool2DOptions()
        table = op.BuiltinOptions()
        opts.Init(table.Bytes, table.Pos)
        kh, kw = opts.FilterHeight(), opts.FilterWidth()
        sh, sw = opts.StrideH(), opts.StrideW()
        pads = self._pads(ins, outs, (kh, kw), (sh, sw))
        raw = self._fresh("pool")
        attrs: dict[str, Any] = {"kernel_shape": [kh, kw], "strides": [sh, sw], "pads": pads}
        if onnx_op == "AveragePool":
            attrs["count_include_pad"] = 0  # TF averages over the pixels inside the photo
        self._node(onnx_op, [self._operand(ins[0])], [raw], **attrs)
        self._finish(self._activation(raw, opts.FusedActivationFunction()), outs[0])
        self._mark(outs)

    def _op_average_pool_2d(self, op: Any, ins: list[int], outs: list[int]) -> None:
        self._pool("AveragePool", op, ins, outs)

    def _op_max_pool_2d(self, op: Any, ins: list[int], outs: list[int]) -> None:
        self._pool("MaxPool", op, ins, outs)

    def _op_resize_bilinear(self, op: Any, ins: list[int], outs: list[int]) -> None:
        opts = self.tfl.ResizeBilinearOptions()
        table = op.BuiltinOptions()
        opts.Init(table.Bytes, table.Pos)
        if opts.AlignCorners():
            mode = "align_corners"
        elif opts.HalfPixelCenters():
            mode = "half_pixel"
        else:
            mode = "asymmetric"
        n, h, w, c = self._shape(outs[0])
        sizes = self._init(np.array([n, c, h, w], dtype=np.int64), "sizes")
        self._node(
            "Resize",
            [self._operand(ins[0]), "", "", sizes],
            [self._name(outs[0])],
            mode="linear",
            coordinate_transformation_mode=mode,
        )
        self._mark(outs)

    def _op_pad(self, op: Any, ins: list[int], outs: list[int]) -> None:
        pads = self._const(ins[1])
        if pads is None:
            raise UnsupportedModel("PAD amounts must be constants")
        pads = pads.astype(np.int64)  # [4, 2] in NHWC order
        order = NCHW_FROM_NHWC if self.layout.get(ins[0]) == "nchw" else list(range(len(pads)))
        begins = [int(pads[k, 0]) for k in order]
        ends = [int(pads[k, 1]) for k in order]
        self._node(
            "Pad",
            [self._operand(ins[0]), self._init(np.array(begins + ends), "pads")],
            [self._name(outs[0])],
        )
        self._mark(outs, self.layout.get(ins[0], "plain"))

    def _op_reshape(self, op: Any, ins: list[int], outs: list[int]) -> None:
        source = self._operand(ins[0])
        if self.layout.get(ins[0]) == "nchw":
            # TFLite reshapes channels-last memory: go back to it first.
            back = self._fresh("nhwc")
            self._node("Transpose", [source], [back], perm=NHWC_FROM_NCHW)
            source = back
        shape = np.array(self._shape(outs[0]), dtype=np.int64)
        self._node("Reshape", [source, self._init(shape, "shape")], [self._name(outs[0])])
        self._mark(outs, "plain")

    def _op_concatenation(self, op: Any, ins: list[int], outs: list[int]) -> None:
        opts = self.tfl.ConcatenationOptions()
        table = op.BuiltinOptions()
        opts.Init(table.Bytes, table.Pos)
        axis = opts.Axis()
        layouts = {self.layout.get(i, "plain") for i in ins}
        if layouts == {"nchw"}:
            axis = [0, 2, 3, 1][axis % 4]  # where each channels-last axis sits channels-first
        elif len(layouts) > 1:
            raise UnsupportedModel("CONCATENATION of mixed layouts is not handled")
        raw = self._fresh("concat")
        self._node("Concat", [self._operand(i) for i in ins], [raw], axis=axis)
        self._finish(self._activation(raw, opts.FusedActivationFunction()), outs[0])
        self._mark(outs, layouts.pop())


def convert(tflite_path: Path, onnx_path: Path) -> Path:
    """Convert one TFLite file to an ONNX file (inputs and outputs channels-first)."""
    import onnx

    model = _Converter(tflite_path.read_bytes()).convert()
    onnx.checker.check_model(model)
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(onnx_path))
    return onnx_path
