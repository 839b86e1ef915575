"""Log a layer's input and output so the "pairs" dashboard can explain every output pixel.

    from torch.utils.tensorboard import SummaryWriter
    from tensorboard_pairs.summary import log_layer

    pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
    with SummaryWriter("logs/logs_maxpool") as writer:
        for step, batch in enumerate(batches):
            log_layer(writer, pool, step, batch, pool(batch))

Per step this writes, into the writer's run:

* the images, with ``writer.add_images(tag_input, ...)`` and ``add_images(tag_output, ...)``, as the IMAGES
  dashboard shows them (skip with ``images=False`` when you log them yourself, and say how you tiled
  them with ``grid=(ncols, padding)``);
* ``{tag_output}/mean``, a scalar: with it TensorBoard's own "Link by step" setting (TIME SERIES,
  settings) moves every image card to the step picked on the chart;
* ``pairs/layer``: which layer made the pair (its parameters, as JSON in the time series' plugin
  metadata) and the batch shapes of this step;
* ``pairs/input`` and ``pairs/output``: the float32 values themselves (``values=False`` skips them).
  A PNG holds 256 levels in [0, 1]; an average is rounded and a dropout output of 2.0 shows white.

Why not ``writer.add_tensor``: it tags its data for a plugin called "tensor", and TensorBoard's default
(fast) loader keeps only data whose plugin it knows or whose metadata names a data class (checked with
tensorboard 2.21: ``add_tensor`` data never reaches ``data_provider.read_tensors``). So the tensors are
TensorBoard ``Summary`` protos (``make_tensor_proto``) with this plugin's name and ``DATA_CLASS_TENSOR``,
written with ``writer.file_writer.add_summary``: ``file_writer`` is a public attribute of
``SummaryWriter`` (no leading underscore; ``add_summary`` is its documented method), the same path
``add_scalar`` and ``add_images`` take. No other dashboard shows these tensors.
"""

from __future__ import annotations

import json
import math

import torch
from tensorboard.compat.proto.summary_pb2 import DataClass, Summary, SummaryMetadata
from tensorboard.util.tensor_util import make_tensor_proto
from torch import nn

from tensorboard_pairs import LAYER_TAG, PLUGIN_NAME, VALUE_TAGS, VERSION

__all__ = ["LAYER_TAG", "PLUGIN_NAME", "VALUE_TAGS", "VERSION", "describe_layer", "log_layer", "prepare"]
#: ``writer.add_images`` tiles a batch 8 images per row, without padding.
ADD_IMAGES_GRID = (8, 0)

_POOLS = {nn.MaxPool2d: "max", nn.AvgPool2d: "avg"}
_DROPOUTS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)


def _pair(value) -> list[int]:
    return [int(value), int(value)] if isinstance(value, int) else [int(v) for v in value]


def describe_layer(layer: nn.Module | dict | None) -> dict:
    """The layer's parameters as a JSON-ready dict: what the dashboard needs to draw a window.

    ``nn.MaxPool2d`` / ``nn.AvgPool2d`` -> kernel_size, stride, padding, dilation, ceil_mode (and
    count_include_pad, divisor_override); ``nn.Dropout``/``1d``/``2d``/``3d`` in training mode -> p.
    Any other module (AlphaDropout, a dropout in ``eval()``) is described by name only (shown side by side, without hover details), as is ``None``.
    A dict is returned as is.
    """
    if layer is None:  # a pair from an unknown layer: side by side, no hover details
        return {"type": "unknown layer", "repr": "unknown layer", "kind": "other"}
    if isinstance(layer, dict):
        return dict(layer)
    described = {"type": type(layer).__name__, "repr": repr(layer)}
    kind = next((k for cls, k in _POOLS.items() if isinstance(layer, cls)), None)
    if kind is not None:
        described.update(
            kind=kind,
            kernel_size=_pair(layer.kernel_size),
            stride=_pair(layer.stride if layer.stride is not None else layer.kernel_size),
            padding=_pair(layer.padding),
            dilation=_pair(getattr(layer, "dilation", 1)),
            ceil_mode=bool(layer.ceil_mode),
        )
        if kind == "avg":
            described.update(count_include_pad=bool(layer.count_include_pad),
                             divisor_override=layer.divisor_override)
    elif isinstance(layer, _DROPOUTS) and layer.training:  # each value: 0, or x / (1 - p)
        described.update(kind="dropout", p=float(layer.p), training=True)
    else:  # in eval() a dropout is the identity; AlphaDropout's dropped values are not 0
        described.update(kind="other")
    return described


def _as_batch(x: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}.")
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError(
            f"{name} must be N×C×H×W (or C×H×W) with C in {{1, 3}}, got shape {tuple(x.shape)}."
        )
    return x.detach().to("cpu", torch.float32)


def prepare(layer: nn.Module | dict, inputs: torch.Tensor, outputs: torch.Tensor):
    """Check that ``outputs`` is what ``layer`` makes of ``inputs``; return (description, x, y).

    ``x`` and ``y`` are N×C×H×W float32 CPU copies. Used by ``log_layer`` and the notebook widget.
    """
    described = describe_layer(layer)
    if (described.get("kind") == "dropout" and isinstance(inputs, torch.Tensor)
            and isinstance(outputs, torch.Tensor) and inputs.data_ptr() == outputs.data_ptr()):
        raise ValueError(f"{described['repr']} overwrote its input (inplace=True): inputs and outputs "
                         "are one tensor. Keep a copy first: before = x.clone(); out = layer(x); "
                         "then log (before, out).")
    x, y = _as_batch(inputs, "inputs"), _as_batch(outputs, "outputs")
    _check_shapes(described, x, y)
    return described, x, y


def _check_shapes(layer: dict, inputs: torch.Tensor, outputs: torch.Tensor) -> None:
    if inputs.shape[:2] != outputs.shape[:2]:
        raise ValueError(
            f"inputs {tuple(inputs.shape)} and outputs {tuple(outputs.shape)} must have the same "
            "batch size and channels: pass the output the layer made from these inputs."
        )
    if layer.get("kind") in ("max", "avg"):
        fn = torch.nn.functional.max_pool2d if layer["kind"] == "max" else torch.nn.functional.avg_pool2d
        extra = {"dilation": layer["dilation"]} if layer["kind"] == "max" else {}
        expected = fn(torch.zeros(1, 1, *inputs.shape[2:]), layer["kernel_size"], layer["stride"],
                      layer["padding"], ceil_mode=layer["ceil_mode"], **extra).shape[2:]
        if tuple(expected) != tuple(outputs.shape[2:]):
            raise ValueError(
                f"{layer['repr']} turns {tuple(inputs.shape[2:])} into {tuple(expected)}, but outputs "
                f"are {tuple(outputs.shape[2:])}: pass the layer that made these outputs."
            )
    elif layer.get("kind") == "dropout" and inputs.shape != outputs.shape:
        raise ValueError(f"Dropout keeps the shape, but inputs are {tuple(inputs.shape)} and "
                         f"outputs {tuple(outputs.shape)}: pass the dropout's own output.")


def _write_tensor(writer, tag: str, value: torch.Tensor, step: int, content: dict) -> None:
    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME,
                                               content=json.dumps(content).encode()),
        data_class=DataClass.DATA_CLASS_TENSOR)
    summary = Summary(value=[Summary.Value(tag=tag, metadata=metadata,
                                           tensor=make_tensor_proto(value.numpy()))])
    # file_writer: a public SummaryWriter attribute (no underscore); add_summary is how add_scalar writes.
    writer.file_writer.add_summary(summary, int(step))


def log_layer(writer, layer: nn.Module | dict, step: int, inputs: torch.Tensor,
              outputs: torch.Tensor, *, tag_input: str = "input", tag_output: str = "output",
              images: bool = True, values: bool = True,
              grid: tuple[int, int] = ADD_IMAGES_GRID) -> dict:
    """Log one step of ``layer``: ``outputs`` is what ``layer`` made from ``inputs``.

    ``writer`` is an open ``torch.utils.tensorboard.SummaryWriter``. ``inputs``/``outputs`` are
    N×C×H×W (or C×H×W) float tensors, C in {1, 3}. ``grid=(ncols, padding)`` says how the images
    were tiled into one picture per step: ``add_images`` uses 8 columns, no padding (the default);
    torchvision's ``make_grid(nrow=8, padding=2)`` is ``(8, 2)``. Returns the layer's description.
    """
    if isinstance(step, bool) or int(step) != step or step < 0:
        raise ValueError(f"step must be a non-negative int (the batch index), got {step!r}.")
    described, x, y = prepare(layer, inputs, outputs)
    if images:
        writer.add_images(tag_input, x, step)
        writer.add_images(tag_output, y, step)
    mean = float(y.mean())
    writer.add_scalar(f"{tag_output}/mean", mean if math.isfinite(mean) else 0.0, step)
    content = {"version": VERSION, "layer": described, "tags": [tag_input, tag_output],
               "grid": {"ncols": int(grid[0]), "padding": int(grid[1])}}
    shapes = torch.tensor(list(x.shape) + list(y.shape), dtype=torch.int64)
    _write_tensor(writer, LAYER_TAG, shapes, step, content)
    if values:
        _write_tensor(writer, VALUE_TAGS["input"], x, step, {"version": VERSION})
        _write_tensor(writer, VALUE_TAGS["output"], y, step, {"version": VERSION})
    return described
