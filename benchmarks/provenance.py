"""Which code a benchmark run measured: the git commit and a digest of the pmo_grad sources."""

from __future__ import annotations

import hashlib
import os
import subprocess

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
