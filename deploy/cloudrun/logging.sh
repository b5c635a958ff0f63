#!/usr/bin/env bash
# Runtime logs carry no PII, and are kept one day (SECURITY.md D4): a dedicated bucket and a sink for the service.
set -euo pipefail
PROJECT_ID=${1:?project id}
gcloud logging buckets create portal-runtime --project="$PROJECT_ID" --location=global --retention-days=1 || true
gcloud logging sinks create portal-runtime "logging.googleapis.com/projects/$PROJECT_ID/locations/global/buckets/portal-runtime" \
  --project="$PROJECT_ID" --log-filter='resource.type="cloud_run_revision" AND resource.labels.service_name="portal"' || true
# Keep them out of the default bucket too.
gcloud logging sinks update _Default --project="$PROJECT_ID" \
  --add-exclusion=name=portal-runtime,filter='resource.type="cloud_run_revision" AND resource.labels.service_name="portal"'
