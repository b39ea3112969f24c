"""A run folder read back: ``run.json`` and the tables and model a run wrote, loaded on first use.

One loader for every reader of run folders (``linkage.Run`` returned by ``run``/``match``, ``explain``,
``report``, ``review``), so a missing or broken file gives the same clear error everywhere.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import RunFolderError


class RunFolder:
    """A finished run: its folder ``out``, its ``info`` (run.json) and its tables (loaded on first access)."""

    def __init__(self, out: str | Path, info: dict[str, Any] | None = None):
        self.out = Path(out)
        self.info: dict[str, Any] = info if info is not None else self._read_info()

    @classmethod
    def open(cls, out: str | Path):
        """Open an existing run folder (``RunFolderError`` if it is not one)."""
        return cls(out)

    def _read_info(self) -> dict[str, Any]:
        p = self.out / "run.json"
        if not p.is_file():
            raise RunFolderError(f"{self.out}: not a run folder (no run.json)", "give the --out folder of a 'linkage run'")
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RunFolderError(f"{p}: not valid JSON (line {exc.lineno})") from exc

    def _parquet(self, name: str) -> pd.DataFrame:
        p = self.out / f"{name}.parquet"
        if not p.is_file():
            raise RunFolderError(f"{self.out}: {name}.parquet is missing", "run 'linkage run' again")
        return pd.read_parquet(p)

    @cached_property
    def records(self) -> pd.DataFrame:
        return self._parquet("records")

    @cached_property
    def pairs(self) -> pd.DataFrame:
        return self._parquet("pairs")

    @cached_property
    def clusters(self) -> pd.DataFrame:
        return self._parquet("clusters")

    @cached_property
    def merged(self) -> pd.DataFrame:
        return self._parquet("merged")

    @cached_property
    def model(self) -> dict[str, Any]:
        p = self.out / "model.json"
        if not p.is_file():
            raise RunFolderError(f"{self.out}: model.json is missing", "run 'linkage run' again")
        return json.loads(p.read_text(encoding="utf-8"))

    @cached_property
    def metrics(self) -> dict[str, Any] | None:
        """metrics.json (written by ``evaluate`` or ``run --labels``), or None."""
        p = self.out / "metrics.json"
        if not p.is_file():
            return None
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            return None

    @property
    def report_path(self) -> Path:
        return self.out / "report.html"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.out)!r})"
