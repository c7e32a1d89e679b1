"""Which code a benchmark run measured: the git commit and a digest of the pmo_grad sources."""

from __future__ import annotations

import datetime
import hashlib
import os
import platform
import subprocess
import sys

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def package_source_digest() -> str:
    """Return the first 12 hex digits of a SHA-256 over pmo_grad's .py files, in sorted path order."""
    digest = hashlib.sha256()
    package_dir = os.path.join(REPOSITORY_ROOT, "pmo_grad")
    for folder, subfolders, files in os.walk(package_dir):
        subfolders.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, package_dir).encode())
                with open(path, "rb") as handle:
                    digest.update(handle.read())
    return digest.hexdigest()[:12]


def git_state(*paths: str) -> str:
    """Return the short commit and the uncommitted changes under ``paths``, or "unknown" with the git error."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPOSITORY_ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        changes = subprocess.run(["git", "status", "--porcelain", "--", *paths], cwd=REPOSITORY_ROOT,
                                 capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as error:
        return f"unknown (git failed: {error})"
    return f"{commit}, uncommitted changes: {changes.replace(chr(10), '; ') if changes else 'none'}"


def common_run_info(script: str) -> dict[str, str]:
    """Return the date, command, software versions, code state and machine that a benchmark result belongs to.

    ``script`` is the benchmark's path from the repository root, whose uncommitted changes are
    reported with those of the package.
    """
    import matplotlib
    import numpy as np
    import pymoo

    import pmo_grad

    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pymoo": pymoo.__version__,
        "matplotlib": matplotlib.__version__,
        "pmo_grad": pmo_grad.__version__,
        "pmo_grad_commit": git_state("pmo_grad", script),
        "pmo_grad_source_sha256": package_source_digest(),
        "machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs, {platform.platform()}",
    }
