#!/usr/bin/env bash
# Refreshes okta-management-subset.json from Okta's published Management API spec
# (github.com/okta/okta-management-openapi-spec, Apache-2.0), then runs the validation test against it.
# Needs curl, python3 and PyYAML. Review the diff: a change in the spec is a change in what Okta promises.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ref="${1:-master}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
curl -fsSL "https://raw.githubusercontent.com/okta/okta-management-openapi-spec/${ref}/dist/current/management-minimal.yaml" -o "$tmp/management-minimal.yaml"
python3 "$here/extract-okta-subset.py" "$tmp/management-minimal.yaml" "$here/okta-management-subset.json"
echo "Spec version: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["info"]["version"])' "$here/okta-management-subset.json")"
cd "$here/../../.."
dotnet test tests/Portal.Idp.Tests --filter "FullyQualifiedName~OktaSpecValidationTests"
