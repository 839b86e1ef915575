"""The "pairs" dashboard: a run's input and output images under one step slider.

Routes (under ``/data/plugin/pairs/``), all read through ``context.data_provider`` (so they work with
TensorBoard's default fast loader, where ``context.multiplexer`` is None):

* ``runs``                  -> ``{run: {"tags": [input, output], "layer": {...} or null, "grid": ...}}``
* ``steps?run=R``           -> ``[{"step", "input", "output", "shapes", "values"}]`` for every step that
                               has both images; ``input``/``output`` are queries for ``image``
* ``image?blob_key=K``      -> the PNG TensorBoard stored
* ``values?run=R&step=S``   -> ``{"input": {"shape", "data"}, "output": ...}``: float32, little endian,
                               base64 (what ``summary.log_layer`` logged), or ``{}``
* ``index.js``, ``viewer.js`` -> the frontend (no build step, nothing from the network)

Runs without ``pairs`` data but with image tags ``input`` and ``output`` (lesson 01's original
``SummaryWriter`` loop) are listed too. If the loop also wrote its layer as text, the one line

    writer.add_text("layer", repr(tudui))    # or repr(pool): any text holding the layer's repr

``parse_layer`` reads it (``"layer"`` → ``{"layer": ..., "layer_text": ..., "layer_error": ...}``). The
page then finds how ``add_images`` tiled the batch and checks the layer against the pictures
themselves (viewer.js ``checkPictures``): repr(nn.AvgPool2d) does not show ceil_mode or
count_include_pad, so those are marked ``"unsure"`` and settled by the pictures.
"""

from __future__ import annotations

import ast
import base64
import json
import re
import urllib.parse
from pathlib import Path

import numpy as np
from tensorboard import plugin_util
from tensorboard.backend import http_util
from tensorboard.data import provider
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

# Never import tensorboard_pairs.summary here: it imports torch (see __init__.py).
from tensorboard_pairs import LAYER_TAG, PLUGIN_NAME, VALUE_TAGS

STATIC = Path(__file__).resolve().parent / "static"
IMAGES_PLUGIN = "images"
DEFAULT_TAGS = ["input", "output"]
#: Steps asked of the data provider; the server itself keeps what ``--samples_per_plugin`` allows.
MAX_STEPS = 1_000_000
TEXT_PLUGIN = "text"
#: ``writer.add_text("layer", ...)`` stores its text under this tag.
LAYER_TEXT_TAG = "layer/text_summary"
#: How ``writer.add_images`` tiles a batch: 8 per row, edge to edge.
ADD_IMAGES_GRID = {"ncols": 8, "padding": 0}

#: The layers PAIRS explains, with their arguments in PyTorch's order (positional arguments allowed).
_SIGNATURES = {
    "MaxPool2d": ("max", ["kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"],
                  {"stride": None, "padding": 0, "dilation": 1, "return_indices": False, "ceil_mode": False}),
    "AvgPool2d": ("avg", ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                          "divisor_override"],
                  {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True,
                   "divisor_override": None}),
    "Dropout": ("dropout", ["p", "inplace"], {"p": 0.5, "inplace": False}),
}
_CALL = re.compile(r"\b(?:nn\.)?(MaxPool2d|AvgPool2d|Dropout)\(")


def _pair(value, name: str) -> list[int]:
    pair = [value, value] if isinstance(value, int) else list(value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise ValueError(f"{name}={value!r} is not an int or a pair of ints")
    return pair


def _calls(text: str):
    """Each ``MaxPool2d(...)``/``AvgPool2d(...)``/``Dropout(...)`` in ``text``: (name, its text)."""
    for match in _CALL.finditer(text):
        depth, end = 0, None
        for pos in range(match.end() - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[pos], 0)
            if depth == 0:
                end = pos + 1
                break
        if end is not None:
            yield match.group(1), text[match.start():end].removeprefix("nn.")


def parse_layer(text: str) -> dict:
    """The layer in ``text`` (``repr(layer)``, or ``repr(model)`` holding exactly one such layer), in
    the form ``summary.describe_layer`` gives; raises ``ValueError`` with a message for a student.

    repr(nn.AvgPool2d(...)) shows neither ``ceil_mode`` nor ``count_include_pad`` (nor
    ``divisor_override``): when the text does not say them, they are listed in ``"unsure"`` and the
    page settles them from the logged pictures.
    """
    found = list(_calls(text))
    if not found:
        raise ValueError("PAIRS explains nn.MaxPool2d, nn.AvgPool2d and nn.Dropout, and the text "
                         "logged as 'layer' names none of them")
    if len(found) > 1:
        names = ", ".join(call for _, call in found)
        raise ValueError(f"the text logged as 'layer' names {len(found)} layers ({names}); PAIRS needs "
                         "the one layer between the input and output pictures: log repr() of that layer")
    name, call = found[0]
    kind, order, defaults = _SIGNATURES[name]
    try:
        node = ast.parse(call, mode="eval").body
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    except (SyntaxError, ValueError) as error:
        raise ValueError(f"PAIRS cannot read {call!r} (write it as Python does, e.g. "
                         f"{name}(kernel_size=3))") from error
    if len(args) > len(order) or set(kwargs) - set(order):
        raise ValueError(f"{call}: unknown arguments for nn.{name}")
    given = dict(zip(order, args, strict=False)) | kwargs
    values = defaults | given
    described = {"type": name, "repr": call, "kind": kind}
    if kind == "dropout":
        p = values["p"]
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
            raise ValueError(f"{call}: p must be a number from 0 to 1")
        return described | {"p": float(p), "training": True}
    if "kernel_size" not in values:
        raise ValueError(f"{call}: kernel_size is missing")
    kernel = _pair(values["kernel_size"], "kernel_size")
    described |= {
        "kernel_size": kernel,
        "stride": kernel if values["stride"] is None else _pair(values["stride"], "stride"),
        "padding": _pair(values["padding"], "padding"),
        "dilation": _pair(values.get("dilation", 1), "dilation"),
        "ceil_mode": bool(values["ceil_mode"]),
    }
    if kind == "avg":
        described |= {"count_include_pad": bool(values["count_include_pad"]),
                      "divisor_override": values["divisor_override"]}
        unsure = [k for k in ("ceil_mode", "count_include_pad") if k not in given]
        if unsure:
            described["unsure"] = unsure
    return described


class PairsPlugin(base_plugin.TBPlugin):
    plugin_name = PLUGIN_NAME

    def __init__(self, context):
        self._data = context.data_provider

    def is_active(self):
        return False  # TensorBoard's list_plugins sees our data ("pairs" tensors)

    def data_plugin_names(self):
        return (PLUGIN_NAME, IMAGES_PLUGIN)

    def frontend_metadata(self):
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="pairs",
                                            disable_reload=True)

    def get_plugin_apps(self):
        return {
            "/index.js": self._static("index.js"),
            "/viewer.js": self._static("viewer.js"),
            "/runs": self._serve_runs,
            "/steps": self._serve_steps,
            "/image": self._serve_image,
            "/values": self._serve_values,
        }

    # -- helpers -------------------------------------------------------------------------------
    def _static(self, name):
        @wrappers.Request.application
        def serve(request):
            return http_util.Respond(request, (STATIC / name).read_text("utf-8"),
                                     "application/javascript")
        return serve

    @staticmethod
    def _ctx(request):
        return plugin_util.context(request.environ), plugin_util.experiment_id(request.environ)

    def _records(self, ctx, eid, runs=None, tags=None):
        return self._data.read_tensors(
            ctx, experiment_id=eid, plugin_name=PLUGIN_NAME, downsample=MAX_STEPS,
            run_tag_filter=provider.RunTagFilter(runs=runs, tags=tags))

    def _runs(self, ctx, eid):
        images = self._data.list_blob_sequences(ctx, experiment_id=eid, plugin_name=IMAGES_PLUGIN)
        layers = self._data.list_tensors(ctx, experiment_id=eid, plugin_name=PLUGIN_NAME,
                                         run_tag_filter=provider.RunTagFilter(tags=[LAYER_TAG]))
        result = {}
        for run, image_tags in images.items():
            series = layers.get(run, {}).get(LAYER_TAG)
            content = json.loads(series.plugin_content or b"{}") if series else {}
            tags = content.get("tags", DEFAULT_TAGS)
            if all(tag in image_tags for tag in tags):
                result[run] = {"tags": tags, "layer": content.get("layer"),
                               "grid": content.get("grid")}
        plain = [run for run, info in result.items() if info["layer"] is None]
        for run, text in self._layer_texts(ctx, eid, plain).items():
            info = result[run] | {"layer_text": text, "grid": ADD_IMAGES_GRID}
            try:
                info["layer"] = parse_layer(text)
            except ValueError as error:
                info["layer_error"] = str(error)
            result[run] = info
        return result

    def _layer_texts(self, ctx, eid, runs):
        """The text each run logged with ``writer.add_text("layer", ...)`` (its last step's)."""
        if not runs:
            return {}
        texts = self._data.read_tensors(
            ctx, experiment_id=eid, plugin_name=TEXT_PLUGIN, downsample=MAX_STEPS,
            run_tag_filter=provider.RunTagFilter(runs=runs, tags=[LAYER_TEXT_TAG]))
        result = {}
        for run, tags in texts.items():
            data = tags.get(LAYER_TEXT_TAG)
            if data:
                value = np.asarray(data[-1].numpy).reshape(-1)
                result[run] = "\n".join(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                                        for v in value)
        return result

    # -- routes --------------------------------------------------------------------------------
    @wrappers.Request.application
    def _serve_runs(self, request):
        ctx, eid = self._ctx(request)
        return http_util.Respond(request, self._runs(ctx, eid), "application/json")

    @wrappers.Request.application
    def _serve_steps(self, request):
        ctx, eid = self._ctx(request)
        run = request.args.get("run", "")
        info = self._runs(ctx, eid).get(run)
        if info is None:
            return http_util.Respond(request, f"No input/output pair in run {run!r}", "text/plain",
                                     code=404)
        blobs = self._data.read_blob_sequences(
            ctx, experiment_id=eid, plugin_name=IMAGES_PLUGIN, downsample=MAX_STEPS,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=info["tags"]))[run]
        by_step = [{d.step: d for d in blobs[tag]} for tag in info["tags"]]
        records = self._records(ctx, eid, [run], [LAYER_TAG, VALUE_TAGS["input"]]).get(run, {})
        shapes = {d.step: d.numpy.tolist() for d in records.get(LAYER_TAG, [])}
        with_values = {d.step for d in records.get(VALUE_TAGS["input"], [])}
        steps = []
        for step in sorted(set(by_step[0]) & set(by_step[1])):
            query = [urllib.parse.urlencode({"blob_key": s[step].values[2].blob_key})
                     for s in by_step]
            shape = shapes.get(step)
            steps.append({"step": step, "input": query[0], "output": query[1],
                          "shapes": {"input": shape[:4], "output": shape[4:]} if shape else None,
                          "values": step in with_values})
        return http_util.Respond(request, steps, "application/json")

    @wrappers.Request.application
    def _serve_image(self, request):
        ctx, _ = self._ctx(request)
        data = self._data.read_blob(ctx, blob_key=request.args.get("blob_key", ""))
        return http_util.Respond(request, data, "image/png")

    @wrappers.Request.application
    def _serve_values(self, request):
        ctx, eid = self._ctx(request)
        run, step = request.args.get("run", ""), int(request.args.get("step", -1))
        records = self._records(ctx, eid, [run], list(VALUE_TAGS.values())).get(run, {})
        result = {}
        for name, tag in VALUE_TAGS.items():
            datum = next((d for d in records.get(tag, []) if d.step == step), None)
            if datum is not None:
                array = np.ascontiguousarray(datum.numpy, dtype="<f4")
                result[name] = {"shape": list(array.shape),
                                "data": base64.b64encode(array.tobytes()).decode("ascii")}
        return http_util.Respond(request, result if len(result) == 2 else {}, "application/json")
