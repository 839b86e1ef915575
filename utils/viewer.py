"""The TensorBoard "pairs" viewer inside the notebook, for when TensorBoard's iframe cannot load.

    pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
    PairViewer(images, pool(images), pool)          # one batch
    PairViewer([b0, b1], [pool(b0), pool(b1)], pool)  # one slider step per batch

Try: hover the last output column (the pixel ``ceil_mode`` adds: part of its window hangs outside),
a pixel of ``nn.MaxPool2d(3, stride=2, padding=1, dilation=2)`` (the window has holes), and a black
pixel of ``nn.Dropout(0.5)``'s output (dropped; kept ones show ×2, above 1 where the picture is white).
Click to pin a window. The drawing code is the dashboard's own
(plugins/tensorboard-pairs/tensorboard_pairs/static/viewer.js), read from the repository: no network.
"""

from __future__ import annotations

import base64
import io
from html import escape
from pathlib import Path

import anywidget
import numpy as np
import torch
import traitlets
from anywidget.widget import repr_mimebundle
from PIL import Image
from torch import nn
from torchvision.utils import make_grid

from utils.alt_text import say
from utils.environment import ROOT
from utils.tensorboard_logging import pairs_summary

PLUGIN = Path(ROOT) / "plugins" / "tensorboard-pairs" / "tensorboard_pairs"
GRID = {"ncols": 8, "padding": 0}  # as SummaryWriter.add_images tiles a batch


_GLUE = """
async function pngBitmap(b64) {
  const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  return createImageBitmap(new Blob([bytes], { type: "image/png" }));
}
export default {
  render({ model, el }) {
    const viewer = mountPairViewer(el);
    const update = () => {
      const data = model.get("data"), steps = data.steps;
      viewer.setSource({
        steps: steps.map((s, t) => ({ step: t, shapes: s.shapes, values: true })),
        layer: data.layer, grid: data.grid,
        loadImages: async (t) => {
          const [input, output] = await Promise.all([pngBitmap(steps[t].input_png), pngBitmap(steps[t].output_png)]);
          return { input, output };
        },
        loadValues: async (t) => ({ input: decodeValues(steps[t].input), output: decodeValues(steps[t].output) }),
      });
    };
    model.on("change:data", update);
    update();
  },
};
"""


def _png(batch: torch.Tensor) -> str:
    """The batch as TensorBoard's add_images shows it: 8 per row, values ×255, clipped to [0, 255]."""
    grid = make_grid(batch, nrow=GRID["ncols"], padding=0) if batch.shape[0] > 1 else batch[0]
    if grid.shape[0] == 1:
        grid = grid.expand(3, -1, -1)
    pixels = (grid * 255).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _values(x: torch.Tensor) -> dict:
    data = np.ascontiguousarray(x.numpy(), dtype="<f4").tobytes()
    return {"shape": list(x.shape), "data": base64.b64encode(data).decode("ascii")}


def pair_data(inputs, outputs, layer: nn.Module | dict) -> dict:
    """What the widget sends to the page (one entry per step); checked like ``log_layer`` checks."""
    prepare = pairs_summary().prepare
    if isinstance(inputs, torch.Tensor):
        inputs, outputs = [inputs], [outputs]
    if len(inputs) != len(outputs) or not inputs:
        raise ValueError(f"Give as many outputs as inputs (one per step), got {len(inputs)} and {len(outputs)}.")
    steps = []
    for x, y in zip(inputs, outputs, strict=True):
        described, x, y = prepare(layer, x, y)
        steps.append({"shapes": {"input": list(x.shape), "output": list(y.shape)},
                      "input_png": _png(x), "output_png": _png(y), "input": _values(x), "output": _values(y)})
    return {"layer": described, "grid": GRID, "steps": steps}


class PairViewer(anywidget.AnyWidget):
    """``PairViewer(inputs, outputs, layer)``: the pair viewer for tensors (see the module docstring).

    ``inputs``/``outputs``: N×C×H×W (or C×H×W) tensors, C in {1, 3}, or lists of them (one per step);
    ``layer``: the ``nn.MaxPool2d`` / ``nn.AvgPool2d`` / ``nn.Dropout`` that made ``outputs``.
    """

    _esm = (PLUGIN / "static" / "viewer.js").read_text("utf-8") + _GLUE
    data = traitlets.Dict().tag(sync=True)

    def __init__(self, inputs, outputs, layer: nn.Module | dict, **kwargs):
        super().__init__(data=pair_data(inputs, outputs, layer), **kwargs)
        self.layer = layer

    def __repr__(self) -> str:  # the text front ends without widgets show instead (not the data)
        return ("PairViewer: no viewer here? Open the notebook in JupyterLab (make lab), or TensorBoard's "
                "PAIRS tab (make tensorboard).")

    def _repr_mimebundle_(self, **kwargs):
        """The live view; and, for a page without a kernel (the website, slides, GitHub), the first
        step's input and output as one picture with a caption, instead of ``<PairViewer object>``."""
        data, metadata = repr_mimebundle(model_id=self.model_id, repr_text=repr(self))  # the live view
        step = self.data["steps"][0]
        a, b = (Image.open(io.BytesIO(base64.b64decode(step[k]))) for k in ("input_png", "output_png"))
        picture = Image.new("RGB", (a.width + b.width + 16, max(a.height, b.height)), "white")
        picture.paste(a), picture.paste(b, (a.width + 16, 0))
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        png = base64.b64encode(buffer.getvalue()).decode("ascii")
        shapes = ["×".join(map(str, step["shapes"][k])) for k in ("input", "output")]
        caption = say("Pair viewer (interactive when the notebook runs), step 1 of {n}: the input {a} (left) "
                      "and the output {b} (right) of {layer}.", n=len(self.data["steps"]), a=shapes[0],
                      b=shapes[1], layer=self.layer)
        html = f'<figure><img src="data:image/png;base64,{png}" alt=""><figcaption>{escape(caption)}</figcaption></figure>'
        data.update({"text/plain": f"{caption}\n{self!r}", "image/png": png, "text/html": html})
        return data, {**metadata, "image/png": {"alt": caption}}
