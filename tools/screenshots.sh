#!/usr/bin/env bash
# Regenerates the README's pictures (docs/images/*.png) from the Chromium journeys that take them: the console,
# the push page, the verified caller, a temporary password shown once, and the audit page. Needs what ./test.sh
# needs for the browser tests (Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/Portal.EndToEnd.Tests -c Debug --nologo -v quiet
PORTAL_SCREENSHOTS_DIR="$(pwd)/docs/images" dotnet test tests/Portal.EndToEnd.Tests --no-build -c Debug --nologo \
  --filter "FullyQualifiedName~AgentJourneyTests.Journey|FullyQualifiedName~AuditorJourneyTests|FullyQualifiedName~ActionJourneyTests.ResultPages"
ls -l docs/images
