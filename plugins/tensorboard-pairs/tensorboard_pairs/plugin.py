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

Runs without ``pairs`` data but with image tags ``input`` and ``output`` are listed without a layer.
"""

from __future__ import annotations

import base64
import json
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
