#!/usr/bin/env bash
# Tests deploy/cloudrun/deploy.sh against a recording gcloud stub (test/stub/gcloud, test/stub/curl) that
# models a project: which commands run, with which key flags, in which order; that a second run creates
# nothing; that drifted resources are corrected rather than re-created; that settings errors name the
# setting and that an unexpected gcloud error stops the script instead of being read as "missing".
# Run by test.sh; takes a few seconds. Usage: deploy/cloudrun/test/deploy_test.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
deploy="$here/../deploy.sh"
indexes_json="$here/../firestore.indexes.json"
stub_path="$here/stub:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failures=0
current=""
fail() {
  printf '  FAIL %s: %s\n' "$current" "$*"
  failures=$((failures + 1))
}
# The settings of every run below.
args=(--project=test-project-1 --region=europe-west1 --domain=Portal.Example.com --tag=abc123)
secret_names=(acme-oidc-client-secret acme-okta-api-token portal-keyring-key portal-pseudonymisation-key)

# A fresh project: an empty state directory and an empty log.
fresh() {
  export GCLOUD_STUB_STATE="$tmp/$1/state" GCLOUD_STUB_LOG="$tmp/$1/log"
  mkdir -p "$GCLOUD_STUB_STATE"
  : >"$GCLOUD_STUB_LOG"
}
# A project as an earlier test left it (saved with `save NAME`), so each run is made once.
save() { cp -a "$GCLOUD_STUB_STATE" "$tmp/saved-$1"; }
restore() {
  fresh "$2"
  rm -rf "$GCLOUD_STUB_STATE"
  cp -a "$tmp/saved-$1" "$GCLOUD_STUB_STATE"
}
# Runs deploy.sh with the stub first on PATH; stdout, stderr and status kept; the log restarted.
run_deploy() {
  : >"$GCLOUD_STUB_LOG"
  set +e
  PATH="$stub_path" "$deploy" "$@" >"$tmp/out" 2>"$tmp/err"
  status=$?
  set -e
}
# The calls that change something (everything but describe/list/get-iam-policy and the token).
changes() { grep -vE '^gcloud [a-z -]*(describe|list|get-iam-policy|print-access-token) ' "$GCLOUD_STUB_LOG" || true; }
add_secret_values() {
  local s
  for s in "${secret_names[@]}"; do
    printf 'not-a-real-secret' | PATH="$stub_path" gcloud secrets versions add "$s" --data-file=- --project=test-project-1
  done
}
# Asserts that the lines matching each pattern appear in the log in this order (each after the previous).
expect_in_order() {
  local line=0 pattern found
  for pattern in "$@"; do
    found=$(changes | grep -nE -- "$pattern" | awk -F: -v after="$line" '$1 > after { print $1; exit }')
    if [ -z "$found" ]; then
      fail "no call matching '$pattern' after line $line"
      return
    fi
    line=$found
  done
}

test_missing_or_wrong_settings_are_named() {
  fresh settings
  local case_args expected
  while IFS='|' read -r case_args expected; do
    # shellcheck disable=SC2086 # the case's flags are words
    run_deploy $case_args
    [ "$status" = 2 ] || fail "'$case_args' exited $status, expected 2"
    grep -qF -- "$expected" "$tmp/err" || fail "'$case_args' did not say '$expected': $(cat "$tmp/err")"
    [ ! -s "$GCLOUD_STUB_LOG" ] || fail "'$case_args' called gcloud before checking its settings"
  done <<'EOF'
--region=europe-west1 --domain=p.example.com --tag=t|--project=ID or PORTAL_PROJECT_ID
--project=test-project-1 --domain=p.example.com --tag=t|--region=REGION or PORTAL_REGION
--project=test-project-1 --region=europe-west1 --tag=t|--domain=HOST or PORTAL_DOMAIN
--project=test-project-1 --region=europe-west1 --domain=https://p.example.com/ --tag=t|PORTAL_DOMAIN (--domain) 'https://p.example.com/' is not a host name
--project=Test_Project --region=europe-west1 --domain=p.example.com --tag=t|PORTAL_PROJECT_ID (--project)
--project=test-project-1 --region=europe-west1 --domain=p.example.com --tag=t --egress-range=10.8.0.0/28|PORTAL_EGRESS_RANGE (--egress-range) '10.8.0.0/28' is too small
--project=test-project-1 --region=europe-west1 --domain=p.example.com --tag=bad/tag|PORTAL_IMAGE_TAG (--tag)
--project=test-project-1 --region=europe-west1 --domain=p.example.com --tag=t --bogus|unknown argument '--bogus'
EOF
  # The environment variables work as the flags do.
  PORTAL_REGION=europe-west1 PORTAL_DOMAIN=p.example.com PORTAL_IMAGE_TAG=t run_deploy
  grep -qF -- "--project=ID or PORTAL_PROJECT_ID" "$tmp/err" || fail "PORTAL_REGION/PORTAL_DOMAIN were not read"
}

test_first_run_creates_everything_in_order_and_stops_at_empty_secrets() {
  fresh first
  run_deploy "${args[@]}"
  [ "$status" = 3 ] || fail "exited $status, expected 3 (secrets without values): $(cat "$tmp/err")"
  expect_in_order \
    '^gcloud services enable run.googleapis.com .*compute.googleapis.com' \
    '^gcloud artifacts repositories create portal --location=europe-west1 --repository-format=docker' \
    '^gcloud builds submit .* --config=.*/deploy/cloudrun/cloudbuild.yaml --substitutions=_IMAGE=europe-west1-docker.pkg.dev/test-project-1/portal/portal:abc123' \
    '^gcloud firestore databases create --database=\(default\) --location=europe-west1 --type=firestore-native' \
    '^gcloud firestore indexes composite create .*--collection-group=audit .*field-path=action,order=ascending --field-config=field-path=at,order=descending' \
    '^gcloud firestore fields ttls update _expireAt --collection-group=audit .*--enable-ttl' \
    '^curl .*-X PATCH .*collectionGroups/audit/fields/_expireAt\?updateMask=indexConfig' \
    '^gcloud iam service-accounts create portal-runtime ' \
    '^gcloud projects add-iam-policy-binding test-project-1 --member=serviceAccount:portal-runtime@test-project-1.iam.gserviceaccount.com --role=roles/datastore.user' \
    '^gcloud secrets create portal-keyring-key --replication-policy=user-managed --locations=europe-west1' \
    '^gcloud secrets add-iam-policy-binding portal-keyring-key --member=serviceAccount:portal-runtime@.* --role=roles/secretmanager.secretAccessor' \
    '^gcloud compute networks create portal-vpc --subnet-mode=custom' \
    '^gcloud compute networks subnets create portal-egress --network=portal-vpc --region=europe-west1 --range=10.8.0.0/24 --enable-private-ip-google-access' \
    '^gcloud compute addresses create portal-egress-ip --region=europe-west1' \
    '^gcloud compute routers create portal-router --network=portal-vpc --region=europe-west1' \
    '^gcloud compute routers nats create portal-nat --router=portal-router --region=europe-west1 --nat-custom-subnet-ip-ranges=portal-egress --nat-external-ip-pool=portal-egress-ip' \
    '^gcloud logging buckets create portal-runtime --location=global --retention-days=1' \
    '^gcloud logging sinks create portal-runtime logging.googleapis.com/projects/test-project-1/locations/global/buckets/portal-runtime --log-filter=resource.type="cloud_run_revision" AND resource.labels.service_name="portal"' \
    '^gcloud logging sinks update _Default --add-exclusion=name=portal-runtime,filter=resource.type="cloud_run_revision" AND resource.labels.service_name="portal"' \
    '^gcloud compute addresses create portal-lb-ip --global --ip-version=IPV4' \
    '^gcloud compute network-endpoint-groups create portal-neg --region=europe-west1 --network-endpoint-type=serverless --cloud-run-service=portal' \
    '^gcloud compute backend-services create portal-backend --global --load-balancing-scheme=EXTERNAL_MANAGED' \
    '^gcloud compute backend-services add-backend portal-backend --global --network-endpoint-group=portal-neg --network-endpoint-group-region=europe-west1' \
    '^gcloud compute url-maps create portal-urlmap --global --default-service=portal-backend' \
    '^gcloud compute ssl-policies create portal-tls --global --profile=MODERN --min-tls-version=1.2' \
    '^gcloud compute ssl-certificates create portal-cert-portal-example-com --global --domains=portal.example.com' \
    '^gcloud compute target-https-proxies create portal-https-proxy --global --url-map=portal-urlmap --ssl-certificates=portal-cert-portal-example-com --ssl-policy=portal-tls' \
    '^gcloud compute forwarding-rules create portal-https --global --load-balancing-scheme=EXTERNAL_MANAGED .*--address=portal-lb-ip --target-https-proxy=portal-https-proxy --ports=443' \
    '^gcloud compute url-maps import portal-http-redirect --global --source=' \
    '^gcloud compute target-http-proxies create portal-http-proxy --global --url-map=portal-http-redirect' \
    '^gcloud compute forwarding-rules create portal-http --global .*--address=portal-lb-ip --target-http-proxy=portal-http-proxy --ports=80'
  # Every call names the project; nothing falls back to the operator's gcloud configuration.
  local unscoped
  unscoped=$(grep '^gcloud ' "$GCLOUD_STUB_LOG" | grep -v 'auth print-access-token' | grep -vc -- '--project=test-project-1' || true)
  [ "$unscoped" = 0 ] || fail "$unscoped gcloud calls without --project"
  # The service is not deployed while a secret it mounts has no value, and the operator is told which.
  if changes | grep -q 'run services replace'; then fail "deployed the service although its secrets are empty"; fi
  local s
  for s in "${secret_names[@]}"; do
    grep -q "^  $s\$" "$tmp/err" || fail "secret $s not named as empty"
  done
  # The egress IP customers allow-list is printed, and the DNS record to create.
  grep -qx 'PORTAL_EGRESS_IP europe-west1 203.0.113.10' "$tmp/out" || fail "egress IP not printed: $(cat "$tmp/out")"
  grep -q 'portal.example.com -> 198.51.100.20' "$tmp/out" || fail "DNS record not printed"
  # The IAM roles: exactly datastore.user on the project, secretAccessor on each secret and nothing else.
  [ "$(cat "$GCLOUD_STUB_STATE/iam.projects.test-project-1")" = roles/datastore.user ] || fail "project roles: $(cat "$GCLOUD_STUB_STATE/iam.projects.test-project-1")"
  for s in "${secret_names[@]}"; do
    [ "$(cat "$GCLOUD_STUB_STATE/iam.secrets.$s" 2>/dev/null)" = roles/secretmanager.secretAccessor ] || fail "secret $s: no accessor binding"
  done
  # The access token goes to curl on stdin, never into an argument list or the output.
  if grep -q 'stub-access-token' "$GCLOUD_STUB_LOG" "$tmp/out" "$tmp/err"; then fail "the access token appeared in a command line or the output"; fi
  cp "$GCLOUD_STUB_LOG" "$tmp/first-run.log"
  save first-run
}

test_firestore_calls_of_the_first_run_match_firestore_indexes_json() {
  python3 - "$indexes_json" "$tmp/first-run.log" <<'PY' || fail "the Firestore calls differ from firestore.indexes.json (above)"
import json, re, sys
spec = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read().splitlines()
want_ttl = sorted(o["collectionGroup"] for o in spec["fieldOverrides"] if o.get("ttl") and o["fieldPath"] == "_expireAt")
got_ttl = sorted(re.search(r"--collection-group=(\S+)", l).group(1) for l in log if l.startswith("gcloud firestore fields ttls update _expireAt"))
want_cg = sorted(o["collectionGroup"] for o in spec["fieldOverrides"] if any(i["queryScope"] == "COLLECTION_GROUP" for i in o["indexes"]))
got_cg = sorted(re.search(r"collectionGroups/([^/]+)/fields/_expireAt", l).group(1) for l in log if l.startswith("curl "))
want_ix = sorted((i["collectionGroup"], tuple((f["fieldPath"], f["order"].lower()) for f in i["fields"])) for i in spec["indexes"])
got_ix = sorted((re.search(r"--collection-group=(\S+)", l).group(1), tuple(re.findall(r"--field-config=field-path=([^,]+),order=(\w+)", l)))
                for l in log if l.startswith("gcloud firestore indexes composite create"))
ok = True
for what, want, got in (("TTL policies", want_ttl, got_ttl), ("collection-group indexes", want_cg, got_cg), ("composite indexes", want_ix, got_ix)):
    if want != got:
        print(f"  {what}: firestore.indexes.json has {want}, deploy.sh made {got}")
        ok = False
sys.exit(0 if ok else 1)
PY
}

test_second_run_deploys_the_service_and_third_run_changes_nothing() {
  restore first-run rerun
  add_secret_values
  run_deploy "${args[@]}"
  [ "$status" = 0 ] || fail "second run exited $status: $(cat "$tmp/err")"
  # Once the secrets have values, the only change is the service itself.
  [ "$(changes | sed 's/ [^ ]*service.yaml / FILE /')" = "gcloud run services replace FILE --region=europe-west1 --project=test-project-1 --quiet" ] ||
    fail "second run changed more than the service: $(changes)"
  local yaml="$GCLOUD_STUB_STATE/run.service.yaml"
  if grep -n '[$][{]' "$yaml"; then fail "placeholders left in the deployed service.yaml"; fi
  local want
  for want in \
    'name: portal' \
    'run.googleapis.com/ingress: internal-and-cloud-load-balancing' \
    'run.googleapis.com/cpu-throttling: "false"' \
    'run.googleapis.com/vpc-access-egress: all-traffic' \
    "run.googleapis.com/network-interfaces: '[{\"network\":\"portal-vpc\",\"subnetwork\":\"portal-egress\"}]'" \
    'serviceAccountName: portal-runtime@test-project-1.iam.gserviceaccount.com' \
    'image: europe-west1-docker.pkg.dev/test-project-1/portal/portal:abc123' \
    'value: https://portal.example.com' \
    'path: /health/ready' \
    'path: /health/live' \
    'value: test-project-1'; do
    grep -qF -- "$want" "$yaml" || fail "deployed service.yaml lacks: $want"
  done
  grep -A1 'name: Portal__Web__TrustedProxyHops' "$yaml" | grep -q 'value: "2"' || fail "TrustedProxyHops is not 2 behind the load balancer"
  grep -A1 'name: Portal__Web__PublicBaseUrl' "$yaml" | grep -q 'value: https://portal.example.com$' || fail "PublicBaseUrl is not the domain"
  # Third run: nothing is created, added, enabled, imported or built.
  run_deploy "${args[@]}"
  [ "$status" = 0 ] || fail "third run exited $status: $(cat "$tmp/err")"
  [ "$(changes | grep -vc 'run services replace')" = 0 ] || fail "third run changed: $(changes | grep -v 'run services replace')"
  grep -qx 'PORTAL_EGRESS_IP europe-west1 203.0.113.10' "$tmp/out" || fail "third run did not print the egress IP"
  save deployed
}

test_drifted_resources_are_corrected_not_recreated() {
  restore deployed drift
  # Someone changed things by hand: Private Google Access off, 30-day log retention, the NAT on another
  # address, the exclusion's filter, the sink's filter.
  local s="$GCLOUD_STUB_STATE"
  sed -i 's/^privateIpGoogleAccess=.*/privateIpGoogleAccess=False/' "$s/compute.networks.subnets@europe-west1/portal-egress"
  sed -i 's/^retentionDays=.*/retentionDays=30/' "$s/logging.buckets@global/portal-runtime"
  sed -i 's|/addresses/portal-egress-ip$|/addresses/some-other-ip|' "$s/compute.routers.nats@europe-west1.portal-router/portal-nat"
  sed -i 's/^exclusions\[\]\.filter=.*/exclusions[].filter=resource.type="cloud_run_revision"/' "$s/logging.sinks@/_Default"
  sed -i 's/^filter=.*/filter=severity>=ERROR/' "$s/logging.sinks@/portal-runtime"
  run_deploy "${args[@]}"
  [ "$status" = 0 ] || fail "exited $status: $(cat "$tmp/err")"
  expect_in_order \
    '^gcloud compute networks subnets update portal-egress --region=europe-west1 --enable-private-ip-google-access' \
    '^gcloud compute routers nats update portal-nat --router=portal-router --region=europe-west1 --nat-external-ip-pool=portal-egress-ip' \
    '^gcloud logging buckets update portal-runtime --location=global --retention-days=1' \
    '^gcloud logging sinks update portal-runtime logging.googleapis.com/projects/test-project-1/locations/global/buckets/portal-runtime --log-filter=' \
    '^gcloud logging sinks update _Default --update-exclusion=name=portal-runtime,filter='
  if changes | grep -E ' (create|import|add-exclusion)'; then fail "re-created something instead of correcting it"; fi
  # A new domain gets a new managed certificate, and the proxy is moved to it.
  run_deploy --project=test-project-1 --region=europe-west1 --domain=helpdesk.example.org --tag=abc123
  expect_in_order \
    '^gcloud compute ssl-certificates create portal-cert-helpdesk-example-org --global --domains=helpdesk.example.org' \
    '^gcloud compute target-https-proxies update portal-https-proxy --global --ssl-certificates=portal-cert-helpdesk-example-org'
}

test_a_second_region_gets_its_own_egress_ip_and_joins_the_load_balancer() {
  restore first-run regions
  run_deploy --project=test-project-1 --region=us-east4 --domain=portal.example.com --tag=abc123
  expect_in_order \
    '^gcloud compute networks subnets create portal-egress --network=portal-vpc --region=us-east4' \
    '^gcloud compute addresses create portal-egress-ip --region=us-east4' \
    '^gcloud compute routers nats create portal-nat --router=portal-router --region=us-east4' \
    '^gcloud compute network-endpoint-groups create portal-neg --region=us-east4' \
    '^gcloud compute backend-services add-backend portal-backend --global --network-endpoint-group=portal-neg --network-endpoint-group-region=us-east4'
  if changes | grep -E 'networks create|addresses create portal-lb-ip|backend-services create|url-maps create|forwarding-rules create'; then
    fail "the second region re-created shared resources"
  fi
}

test_an_unexpected_gcloud_error_stops_instead_of_creating() {
  fresh denied
  GCLOUD_STUB_FAIL="compute networks describe" run_deploy "${args[@]}"
  [ "$status" = 2 ] || fail "exited $status, expected 2"
  grep -q PERMISSION_DENIED "$tmp/err" || fail "gcloud's error was not shown: $(cat "$tmp/err")"
  if changes | grep -q 'compute networks create'; then fail "created the network although describing it failed for another reason"; fi
}

# gcloud itself reads the rendered YAML into its Cloud Run Service message before it asks for credentials:
# a misspelt or misplaced field fails there, offline. Needs the real Google Cloud CLI (CI has it for the
# Firestore emulator); without it the test says so and fails when CI requires it.
test_service_yaml_is_a_valid_cloud_run_service_for_the_real_gcloud() {
  local real yaml="$tmp/saved-deployed/run.service.yaml" config="$tmp/gcloud-config"
  real=$(command -v gcloud || true)
  if [ -z "$real" ]; then
    if [ -n "${PORTAL_REQUIRE_FIRESTORE_EMULATOR:-}" ]; then fail "the Google Cloud CLI is not installed"; else printf '  SKIP %s: no gcloud\n' "$current"; fi
    return
  fi
  mkdir -p "$config"
  set +e
  CLOUDSDK_CONFIG="$config" CLOUDSDK_CORE_DISABLE_PROMPTS=1 CLOUDSDK_CORE_CHECK_GCE_METADATA=false \
    timeout 120 "$real" run services replace "$yaml" --region=europe-west1 --project=test-project-1 --quiet >"$tmp/real.out" 2>"$tmp/real.err"
  set -e
  # Without an account, gcloud stops right after parsing; anything else it says is about the YAML.
  grep -q 'You do not currently have an active account selected' "$tmp/real.err" ||
    fail "gcloud did not accept the rendered service.yaml: $(head -5 "$tmp/real.err")"
}

# In this order: later tests start from the project an earlier one left.
tests=(
  test_missing_or_wrong_settings_are_named
  test_first_run_creates_everything_in_order_and_stops_at_empty_secrets
  test_firestore_calls_of_the_first_run_match_firestore_indexes_json
  test_second_run_deploys_the_service_and_third_run_changes_nothing
  test_drifted_resources_are_corrected_not_recreated
  test_a_second_region_gets_its_own_egress_ip_and_joins_the_load_balancer
  test_an_unexpected_gcloud_error_stops_instead_of_creating
  test_service_yaml_is_a_valid_cloud_run_service_for_the_real_gcloud
)
for t in "${tests[@]}"; do
  current=$t
  before=$failures
  "$t"
  if [ "$failures" = "$before" ]; then printf '  PASS %s\n' "$t"; fi
done
if [ "$failures" -gt 0 ]; then
  printf 'deploy.sh tests: %d failure(s)\n' "$failures"
  exit 1
fi
printf 'deploy.sh tests: all passed\n'
