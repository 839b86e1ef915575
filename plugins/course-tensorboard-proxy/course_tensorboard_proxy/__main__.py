"""``python -m course_tensorboard_proxy --host unix:///folder/socket --logdir ...``: TensorBoard on a
Unix socket (see the package docstring); jupyter-server-proxy runs it."""

import sys

from course_tensorboard_proxy import serve_on_unix_socket

serve_on_unix_socket(sys.argv[1:])
