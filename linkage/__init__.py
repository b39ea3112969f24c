"""linkage: probabilistic record linkage for scholarly-paper records that explains every decision.

Library API (the CLI is a thin layer over it)::

    import linkage
    result = linkage.run(["examples/sources/dblp.csv", "examples/sources/acm.csv"], out="reports/example")
    result.clusters.head()
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import LabelsError, LinkageError, RunFolderError, SettingsError, SourceError  # noqa: E402
from .pipeline import Run, run  # noqa: E402
from .settings import load_settings  # noqa: E402

__all__ = ["LabelsError", "LinkageError", "Run", "RunFolderError", "SettingsError", "SourceError", "__version__",
           "load_settings", "run"]
