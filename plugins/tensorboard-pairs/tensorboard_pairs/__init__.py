"""TensorBoard dashboard "pairs": one step slider for a layer's input and output, hover to see why.

* ``tensorboard_pairs.summary.log_layer(writer, layer, step, inputs, outputs)`` logs a step with a plain
  ``torch.utils.tensorboard.SummaryWriter``.
* ``tensorboard_pairs.plugin.PairsPlugin`` is the dashboard, found by TensorBoard through the
  ``tensorboard_plugins`` entry point once this package is installed.
"""

PLUGIN_NAME = "pairs"
