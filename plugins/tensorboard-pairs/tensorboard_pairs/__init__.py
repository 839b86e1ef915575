"""TensorBoard dashboard "pairs": one step slider for a layer's input and output, hover to see why.

* ``tensorboard_pairs.summary.log_layer(writer, layer, step, inputs, outputs)`` logs a step with a plain
  ``torch.utils.tensorboard.SummaryWriter``.
* ``tensorboard_pairs.plugin.PairsPlugin`` is the dashboard, found by TensorBoard through the
  ``tensorboard_plugins`` entry point once this package is installed.
"""

# The names the dashboard (plugin.py) and the writer (summary.py) share. They live here, not in
# summary.py, because TensorBoard imports plugin.py in every TensorBoard process: summary.py imports
# torch (about 700 MB of RSS), plugin.py must not.
PLUGIN_NAME = "pairs"
VERSION = 1
LAYER_TAG = "pairs/layer"
VALUE_TAGS = {"input": "pairs/input", "output": "pairs/output"}
