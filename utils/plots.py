"""Pictures (TEMPORARY facade while utils/ is reorganised: the real code moves here).

``show_pair(inputs, outputs, titles=("input", "output"), actual_size=True, *, zoom=1, dpi=100, gap=24)``
``draw_windows(ax, grid, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, ...)``
``draw_windows_1d(ax, size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, label="n")``
``show_images(panels: dict, size=256, dpi=100, title=None, gap=20)``
``window_view(x, kernel_size, stride)``, ``draw_window_view(height=6, width=6, kernel_size=3, stride=2)``
``calculator(height=5, width=5, kernel_size=2, stride=2, padding=1, dilation=1, ceil_mode=True, draw=True)``
"""

from utils.drawing import draw_windows, show_pair  # noqa: F401
from utils.scratch_drawing import draw_window_view, window_view  # noqa: F401
from utils.shapes import calculator  # noqa: F401
from utils.shapes_drawing import draw_windows_1d  # noqa: F401
from utils.side_by_side import show_side_by_side as show_images  # noqa: F401
