#!/usr/bin/env python3
"""Fails when a tracked file holds something that looks like a committed credential.

Scans every file git tracks (what a clone would publish) for high-signal credential patterns: private key
blocks, cloud and SaaS access keys, Okta API tokens. A deliberate fixture line can carry the marker
`secret-scan: allow` to be skipped; nothing in this repository needs it today.

  tools/ci/scan-secrets.py [repo]   scan a checkout (default: the current directory)
  tools/ci/scan-secrets.py --self-test   plant a key in a scratch repository and prove the scan fails on it
"""
import os
import re
import subprocess
import sys
import tempfile

# Written in pieces so that this file does not match its own patterns.
BEGIN, END = "-----" + "BEGIN", "-----"
PATTERNS = [
    ("private key block", re.compile(BEGIN + r" (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?" + END)),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}")),
    ("Okta API token", re.compile(r"\bSSWS\s+00[A-Za-z0-9_\-]{40}\b")),
    ("Azure storage key", re.compile(r"AccountKey=[A-Za-z0-9+/=]{80,}")),
    ("Stripe live key", re.compile(r"\b[sr]k_live_[0-9a-zA-Z]{24,}\b")),
]
ALLOW = "secret-scan: allow"
MAX_BYTES = 2_000_000


def scan(repo):
    files = subprocess.run(["git", "-C", repo, "ls-files", "-z"], check=True, capture_output=True).stdout.split(b"\0")
    findings = []
    for name in filter(None, files):
        path = os.path.join(repo, name.decode())
        try:
            if os.path.getsize(path) > MAX_BYTES:
                continue
            data = open(path, "rb").read()
        except OSError:
            continue
        if b"\0" in data[:8000]:
            continue  # binary
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if ALLOW in line:
                continue
            for label, pattern in PATTERNS:
                if pattern.search(line):
                    findings.append(f"{name.decode()}:{number}: {label}")
    return findings


def self_test():
    with tempfile.TemporaryDirectory() as repo:
        subprocess.run(["git", "init", "-q", repo], check=True)
        clean = os.path.join(repo, "clean.txt")
        open(clean, "w").write("ApiTokenSecret = env:OKTA_TOKEN\n")
        subprocess.run(["git", "-C", repo, "add", "clean.txt"], check=True)
        if scan(repo):
            print("self-test: a clean repository was flagged", file=sys.stderr)
            return 1
        planted = os.path.join(repo, "appsettings.json")
        key = BEGIN + " RSA PRIVATE KEY" + END + "\nMIIEowIBAAKCAQEA" + "x" * 40 + "\n"
        open(planted, "w").write('{ "Key": "' + key.replace("\n", "\\n") + '", "Aws": "AKIA' + "ABCDEFGHIJKLMNOP" + '" }\n')
        subprocess.run(["git", "-C", repo, "add", "appsettings.json"], check=True)
        found = scan(repo)
        if not any("private key block" in f for f in found) or not any("AWS access key id" in f for f in found):
            print("self-test: the planted secrets were not found: " + repr(found), file=sys.stderr)
            return 1
        print("self-test: planted private key and access key found, clean file passed")
        return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    repo = sys.argv[1] if len(sys.argv) > 1 else "."
    findings = scan(repo)
    for f in findings:
        print("possible committed secret: " + f, file=sys.stderr)
    if findings:
        print(f"{len(findings)} possible secret(s) in tracked files; remove them (and rotate them), or mark a deliberate fixture line '{ALLOW}'.", file=sys.stderr)
        return 1
    print("secret scan: no committed secrets in tracked files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
