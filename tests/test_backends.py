"""DuckDB backend housekeeping: spill folders left by killed runs are removed, live ones kept."""

from __future__ import annotations

import os
import subprocess
import sys

from linkage.backends import remove_stale_spill_folders


def test_spill_folders_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    stale = tmp_path / f"linkage-duckdb-{dead}-1"
    (stale / "sub").mkdir(parents=True)
    (stale / "sub" / "spill.tmp").write_bytes(b"x" * 1000)
    mine = tmp_path / f"linkage-duckdb-{os.getpid()}-3"
    mine.mkdir()
    live = tmp_path / "linkage-duckdb-1-1"  # pid 1 always runs
    live.mkdir()
    other = tmp_path / "linkage-duckdb-notes"
    other.mkdir()
    removed = remove_stale_spill_folders(str(tmp_path))
    assert removed == [str(stale)]
    assert not stale.exists() and mine.exists() and live.exists() and other.exists()


def test_missing_parent_folder_is_fine(tmp_path):
    assert remove_stale_spill_folders(str(tmp_path / "nope")) == []


def test_duckdb_memory_limit_default_is_an_eighth_of_memory_between_1_and_1_5_gb(monkeypatch):
    from linkage.backends import DuckDBBackend

    monkeypatch.delenv("LINKAGE_MEMORY_LIMIT", raising=False)
    page = 4096
    for total_gb, want in ((4, "1024MB"), (10, "1280MB"), (24, "1536MB"), (256, "1536MB")):
        monkeypatch.setattr(os, "sysconf", lambda k, t=total_gb: page if k == "SC_PAGE_SIZE" else t * 1024 ** 3 // page)
        assert DuckDBBackend()._memory_limit() == want, total_gb
    monkeypatch.setenv("LINKAGE_MEMORY_LIMIT", "3GB")
    assert DuckDBBackend()._memory_limit() == "3GB"
    assert DuckDBBackend(memory_limit="700MB")._memory_limit() == "700MB"
