"""Running a write in its unit of work now lives in the HTTP kit (``cardfile/api/kit/units.py``).

These names stay importable from here for code written against the old module; new code
imports the kit.
"""

from __future__ import annotations

from cardfile.api.kit.units import in_write_transaction, run_write

__all__ = ["in_write_transaction", "run_write"]
