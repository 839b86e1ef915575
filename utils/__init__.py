"""Helpers for the course "PyTorch pooling and dropout, seen in TensorBoard", in reading order:

* ``environment``          paths, the repository URL, the one device helper (CPU), the one seed helper
* ``images``               the sample images (or your folder) as an N×3×H×W float tensor in [0, 1]
* ``pooling``              window arithmetic, once: output size, window starts, divisors, adaptive windows
* ``shapes``               output shapes explained, side by side with PyTorch
* ``scratch``              max/avg pooling and dropout rebuilt from tensor primitives
* ``dropout``              dropout measured, and the two-moons data for lesson 05
* ``alt_text``             what each picture shows, in words (its alt text), in the reader's language
* ``plots``                pictures: windows, image pairs, the calculator
* ``tensorboard_logging``  clean runs, honest images, reading runs back, opening TensorBoard
* ``viewer``               the pair viewer: click an output pixel, see the window it came from
* ``checks/``              self-checks of each lesson's exercises

Not installed: notebooks put the repository root first on ``sys.path``. Tool-only code lives in tools/.
"""

from utils.environment import check_kernel

check_kernel()  # a lesson opened with a kernel that lacks torch & co. stops here, saying what to do
