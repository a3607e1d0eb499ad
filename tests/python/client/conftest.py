"""Fixtures of the client's end-to-end tests: a moto S3 server and `hq serve --stage-s3` (see client_support)."""

from client_support import moto_url, staged_server  # noqa: F401  (pytest finds fixtures by name)
