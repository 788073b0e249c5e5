"""Launching and supervising marimo: the process jupyter-server-proxy starts
(``python -m jupyter_marimo_proxy.launcher``) and the pieces it is made of."""
