#!/usr/bin/env python3
"""Cuts Okta's Management OpenAPI spec down to the operations the portal calls.

Usage: extract-okta-subset.py management-minimal.yaml okta-management-subset.json

Keeps the spec's own `info` block (with its Apache-2.0 licence), the listed operations with their
parameters and responses, and every component they reference, transitively. Examples are dropped: the
validation test reads schemas only.
"""
import json
import sys

import yaml

# The operations the portal (src/Portal.Idp/Okta) and its onboarding check call. Keep in step with
# OktaSpecValidationTests.PortalOperations.
OPERATIONS = [
    "getWellknownOrgMetadata",
    "listUsers",
    "getUser",
    "listFactors",
    "verifyFactor",
    "getFactorTransactionStatus",
    "listUserGroups",
    "listAssignedRolesForUser",
    "listGroupAssignedRoles",
    "resetPassword",
    "expirePasswordWithTempPassword",
    "resetFactors",
    "unlockUser",
    "revokeUserSessions",
    "listAuthenticators",
    "createTacAuthenticatorEnrollment",
    # The System Log listing (GET /api/v1/logs), for reconciling helpdesk actions done outside the portal.
    "listLogEvents",
]


def main(source, target):
    with open(source, encoding="utf-8") as f:
        spec = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))

    paths = {}
    found = set()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("operationId") in OPERATIONS:
                kept = paths.setdefault(path, {})
                if "parameters" in item:
                    kept["parameters"] = item["parameters"]
                kept[method] = strip_examples(op)
                found.add(op["operationId"])

    missing = sorted(set(OPERATIONS) - found)
    if missing:
        sys.exit("Not in the spec any more: " + ", ".join(missing))

    components = {}
    pending = [paths]
    seen = set()
    while pending:
        for ref in refs(pending.pop()):
            if ref in seen:
                continue
            seen.add(ref)
            _, _, kind, name = ref.split("/", 3)
            node = strip_examples(spec["components"][kind][name])
            components.setdefault(kind, {})[name] = node
            pending.append(node)

    subset = {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "x-subset-of": "okta/okta-management-openapi-spec dist/current/management-minimal.yaml",
        "paths": paths,
        "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())},
    }
    with open(target, "w", encoding="utf-8") as f:
        json.dump(subset, f, indent=1, sort_keys=False, ensure_ascii=False)
        f.write("\n")


def strip_examples(node):
    if isinstance(node, dict):
        return {k: strip_examples(v) for k, v in node.items() if k not in ("examples", "example")}
    if isinstance(node, list):
        return [strip_examples(v) for v in node]
    return node


def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/components/"):
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
