"""Helpers for the course "PyTorch pooling and dropout, seen in TensorBoard".

Flat, one module per idea (each states PyTorch's conventions: padding is per side, stride=None means
stride = kernel_size, p is the DROP probability):

* ``environment`` paths, the one device helper (CPU by default), the one seed helper;
  ``colab`` where the course lives online.
* ``images`` the sample images as an N×3×H×W float tensor in [0, 1], in batches; ``cifar10`` the
  optional original workload (never needed, fails clearly offline).
* ``tensorboard_logging`` clean runs (one event file), honest images (no silent clipping), reading
  runs back; ``tensorboard_server`` start/stop a local server; ``contact_sheet`` runs as PNG sheets.
* ``shapes`` output sizes exactly as PyTorch computes them, explained; ``divisors`` what average
  pooling divides by; ``coverage`` which pixels pooling never reads.
* ``scratch`` pooling and dropout rebuilt from tensor primitives; ``scratch_loops`` the same as plain
  loops; ``scratch_timing`` timing them against PyTorch.
* ``dropout`` dropout measured, and lesson 05's two-moons data and training loop.
* ``drawing``, ``shapes_drawing``, ``side_by_side``, ``scratch_drawing`` pictures.
* ``exercises_*`` the self-checks of each lesson's exercises.

This package is not installed: notebooks put the repository root first on ``sys.path``.
"""
