"""The native API's error shape, RFC 9457 problem details, now lives in the HTTP kit
(``cardfile/api/kit/problems.py``); these names stay importable from here."""

from __future__ import annotations

from cardfile.api.kit.problems import PROBLEMS, install_problem_handlers, problem_json, problem_response

__all__ = ["PROBLEMS", "install_problem_handlers", "problem_json", "problem_response"]
