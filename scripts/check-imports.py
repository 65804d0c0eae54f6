#!/usr/bin/env python3
"""Enforces the module graph: every module a target imports must be one of the target's own
declared dependencies in Package.swift (a target or a product), not one it merely reaches through
another target. SwiftPM's --explicit-target-dependency-import-check (also passed by `make build`
and scripts/test-all.sh) accepts transitive dependencies; this check does not.

    scripts/check-imports.py        # exits 1 and names each undeclared import
"""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The toolchain's and the platform's modules, which no manifest declares.
SYSTEM = {
    "Foundation", "FoundationEssentials", "Dispatch", "Glibc", "Darwin", "Musl", "Synchronization",
    "Testing", "XCTest", "_Concurrency", "os",
}  # fmt: skip
IMPORT = re.compile(
    r"^\s*(?:@testable\s+|@_exported\s+|@preconcurrency\s+)*(?:public\s+|package\s+|internal\s+)?"
    r"import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?([A-Za-z_][A-Za-z0-9_]*)",
    re.MULTILINE,
)


def main() -> int:
    manifest = json.loads(
        subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    )
    problems = []
    for target in manifest["targets"]:
        name = target["name"]
        folder = "Tests" if target["type"] == "test" else "Sources"
        path = ROOT / (target.get("path") or f"{folder}/{name}")
        declared = set()
        for dependency in target["dependencies"]:
            for kind in ("byName", "target", "product"):
                if kind in dependency:
                    declared.add(dependency[kind][0])
        imported = set()
        for source in path.rglob("*.swift"):
            imported.update(IMPORT.findall(source.read_text(encoding="utf-8")))
        for module in sorted(imported - declared - SYSTEM - {name}):
            problems.append(f"{name} imports {module} without declaring it a dependency in Package.swift")
    for problem in problems:
        print(f"check-imports: {problem}", file=sys.stderr)
    if not problems:
        print(f"check-imports: every import of {len(manifest['targets'])} targets is a declared dependency")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
