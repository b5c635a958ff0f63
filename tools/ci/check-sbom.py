#!/usr/bin/env python3
"""Fails unless a CycloneDX SBOM lists exactly the packages a lock file pins.

  tools/ci/check-sbom.py SBOM.json LOCKFILE [MINIMUM]

The SBOM must be CycloneDX JSON whose components are NuGet packages, each with a version, a pkg:nuget purl
and a SHA-512 hash, at least MINIMUM of them (default 30: the portal ships about fifty), and the same
name@version set as the lock file's packages for the target framework (project references left out). An
empty or partial SBOM, or one made from another configuration than the lock file's, fails.
"""
import json
import sys


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    sbom_path, lock_path = sys.argv[1], sys.argv[2]
    minimum = int(sys.argv[3]) if len(sys.argv) == 4 else 30
    sbom = json.load(open(sbom_path, encoding="utf-8"))
    lock = json.load(open(lock_path, encoding="utf-8"))
    problems = []
    if sbom.get("bomFormat") != "CycloneDX":
        problems.append("not a CycloneDX document (bomFormat)")
    components = sbom.get("components") or []
    listed = set()
    for c in components:
        name, version, purl = c.get("name", ""), c.get("version", ""), c.get("purl", "")
        if not name or not version or purl != f"pkg:nuget/{name}@{version}":
            problems.append(f"component without name, version or its NuGet purl: {c.get('bom-ref')!r}")
        if not any(h.get("alg") == "SHA-512" and h.get("content") for h in c.get("hashes") or []):
            problems.append(f"{name}@{version}: no SHA-512 hash")
        listed.add((name.lower(), version))
    frameworks = [k for k in lock.get("dependencies", {}) if "/" not in k]
    if len(frameworks) != 1:
        problems.append(f"{lock_path}: expected one target framework, found {frameworks}")
    pinned = {(name.lower(), entry.get("resolved"))
              for fw in frameworks for name, entry in lock["dependencies"][fw].items()
              if entry.get("type") != "Project"}
    for name, version in sorted(pinned - listed):
        problems.append(f"{name}@{version}: pinned in {lock_path} but missing from the SBOM")
    for name, version in sorted(listed - pinned):
        problems.append(f"{name}@{version}: in the SBOM but not pinned in {lock_path}")
    if len(components) < minimum:
        problems.append(f"{len(components)} components, expected at least {minimum}")
    for p in problems:
        print(f"SBOM {sbom_path}: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"   SBOM {sbom_path}: {len(components)} NuGet components, the same as {lock_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
