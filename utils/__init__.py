"""Helpers for the course "PyTorch pooling and dropout, seen in TensorBoard".

One module per idea: ``environment`` (paths, device, seed), ``images`` (sample images),
``tensorboard_logging`` (clean runs, honest image logging), ``shapes`` (output-size arithmetic),
``scratch`` (pooling and dropout rebuilt from tensor primitives), ``drawing`` (pictures of windows).

This package is not installed: notebooks put the repository root first on ``sys.path``.
"""
