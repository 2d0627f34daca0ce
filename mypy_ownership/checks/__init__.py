"""Checks: one module per error family, each turning what the model and the
analyses found into diagnostics (see ``mypy_ownership.diagnostics``, the one
path every error leaves by).  No check imports another: what two checks
share lives in the model or the analyses below them.
"""
