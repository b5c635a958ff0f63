#!/usr/bin/env bash
# Deploys the portal to Cloud Run in one Google Cloud project and region, creating whatever is missing:
# Artifact Registry and the image, Firestore with its indexes and TTL policies, Secret Manager secrets
# (empty: the operator adds the values), the runtime service account and its roles, the dedicated egress
# IP (VPC, subnet, static IP, Cloud Router, Cloud NAT), the runtime log bucket (one day) and its routing,
# the external HTTPS load balancer, and the Cloud Run service from service.yaml.
#
# Every resource is described first and created only when missing, so the script is safe to re-run: a
# second run changes nothing except `gcloud run services replace` with the same spec, which Cloud Run
# treats as a no-op (no new revision). Only gcloud is used (and curl for the one Firestore index setting
# gcloud cannot write, with a token from gcloud). The walk-through is docs/deploy.md.
#
# Usage: deploy/cloudrun/deploy.sh --project=ID --region=REGION --domain=HOST [--tag=TAG] [...]
#        (or the PORTAL_* environment variables below; a flag wins over the variable)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/../.." && pwd)

usage() {
  cat <<'EOF'
Usage: deploy/cloudrun/deploy.sh [flags]

Required (flag or environment variable):
  --project=ID             PORTAL_PROJECT_ID    the Google Cloud project
  --region=REGION          PORTAL_REGION        Cloud Run, Artifact Registry, subnet, egress IP (e.g. europe-west1)
  --domain=HOST            PORTAL_DOMAIN        the portal's public host name (Portal:Web:PublicBaseUrl = https://HOST)
Optional:
  --tag=TAG                PORTAL_IMAGE_TAG     image tag; default: the git commit (refused when the tree has changes)
  --service=NAME           PORTAL_SERVICE       Cloud Run service and resource name prefix (default: portal)
  --firestore-database=ID  PORTAL_FIRESTORE_DATABASE  (default: (default))
  --firestore-location=L   PORTAL_FIRESTORE_LOCATION  (default: the region)
  --egress-range=CIDR      PORTAL_EGRESS_RANGE  the Direct VPC egress subnet, /26 or larger (default: 10.8.0.0/24)
  --log-location=L         PORTAL_LOG_LOCATION  the runtime log bucket's location (default: global)
EOF
}

die() {
  printf 'deploy.sh: %s\n' "$*" >&2
  # Inside $(...) an exit would only end the subshell, and the caller would read it as "missing".
  if [ "$BASH_SUBSHELL" -gt 0 ]; then kill -s TERM "$$"; fi
  exit 2
}
step() { printf '== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }

PROJECT_ID=${PORTAL_PROJECT_ID:-}
REGION=${PORTAL_REGION:-}
DOMAIN=${PORTAL_DOMAIN:-}
TAG=${PORTAL_IMAGE_TAG:-}
SERVICE=${PORTAL_SERVICE:-portal}
FIRESTORE_DATABASE=${PORTAL_FIRESTORE_DATABASE:-(default)}
FIRESTORE_LOCATION=${PORTAL_FIRESTORE_LOCATION:-}
EGRESS_RANGE=${PORTAL_EGRESS_RANGE:-10.8.0.0/24}
LOG_LOCATION=${PORTAL_LOG_LOCATION:-global}

for arg in "$@"; do
  case "$arg" in
    --project=*) PROJECT_ID=${arg#*=} ;;
    --region=*) REGION=${arg#*=} ;;
    --domain=*) DOMAIN=${arg#*=} ;;
    --tag=*) TAG=${arg#*=} ;;
    --service=*) SERVICE=${arg#*=} ;;
    --firestore-database=*) FIRESTORE_DATABASE=${arg#*=} ;;
    --firestore-location=*) FIRESTORE_LOCATION=${arg#*=} ;;
    --egress-range=*) EGRESS_RANGE=${arg#*=} ;;
    --log-location=*) LOG_LOCATION=${arg#*=} ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$arg' (flags are written --name=value; see --help)" ;;
  esac
done

# ---------------------------------------------------------------------------------------------------
# Settings: each missing or malformed one is named, with the flag and the variable that set it.
[ -n "$PROJECT_ID" ] || die "the project is required: --project=ID or PORTAL_PROJECT_ID"
[ -n "$REGION" ] || die "the region is required: --region=REGION or PORTAL_REGION (e.g. europe-west1)"
[ -n "$DOMAIN" ] || die "the public host name is required: --domain=HOST or PORTAL_DOMAIN (e.g. portal.example.com)"
[[ "$PROJECT_ID" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || die "PORTAL_PROJECT_ID (--project) '$PROJECT_ID' is not a Google Cloud project id"
[[ "$REGION" =~ ^[a-z]+-[a-z]+[0-9]+$ ]] || die "PORTAL_REGION (--region) '$REGION' is not a region name such as europe-west1"
DOMAIN=${DOMAIN,,}
[[ "$DOMAIN" =~ ^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$ ]] || die "PORTAL_DOMAIN (--domain) '$DOMAIN' is not a host name (no scheme, port or path: portal.example.com)"
[[ "$SERVICE" =~ ^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$ ]] || die "PORTAL_SERVICE (--service) '$SERVICE' must be lower-case letters, digits and dashes, at most 32"
[[ "$FIRESTORE_DATABASE" == "(default)" || "$FIRESTORE_DATABASE" =~ ^[a-z][a-z0-9-]{2,61}[a-z0-9]$ ]] || die "PORTAL_FIRESTORE_DATABASE (--firestore-database) '$FIRESTORE_DATABASE' is not a Firestore database id"
FIRESTORE_LOCATION=${FIRESTORE_LOCATION:-$REGION}
[[ "$FIRESTORE_LOCATION" =~ ^[a-z0-9-]+$ ]] || die "PORTAL_FIRESTORE_LOCATION (--firestore-location) '$FIRESTORE_LOCATION' is not a location"
[[ "$LOG_LOCATION" =~ ^[a-z0-9-]+$ ]] || die "PORTAL_LOG_LOCATION (--log-location) '$LOG_LOCATION' is not a location"
if [[ "$EGRESS_RANGE" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]{1,2})$ ]]; then
  # Direct VPC egress takes two addresses per instance and reserves them in blocks of 16: /26 is Google's minimum.
  [ "${BASH_REMATCH[2]}" -le 26 ] || die "PORTAL_EGRESS_RANGE (--egress-range) '$EGRESS_RANGE' is too small: Direct VPC egress needs /26 or larger"
else
  die "PORTAL_EGRESS_RANGE (--egress-range) '$EGRESS_RANGE' is not an IPv4 CIDR range such as 10.8.0.0/24"
fi
if [ -z "$TAG" ]; then
  # The image is named by the commit it was built from; a tree with changes has no such name.
  if ! TAG=$(git -C "$repo_root" rev-parse --short=12 HEAD 2>/dev/null); then
    die "the image tag is required outside a git checkout: --tag=TAG or PORTAL_IMAGE_TAG"
  fi
  if [ -n "$(git -C "$repo_root" status --porcelain 2>/dev/null)" ]; then
    die "the working tree has uncommitted changes: commit them, or name the image with --tag=TAG or PORTAL_IMAGE_TAG"
  fi
fi
[[ "$TAG" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "PORTAL_IMAGE_TAG (--tag) '$TAG' is not a valid image tag"
command -v gcloud >/dev/null 2>&1 || die "gcloud is not on PATH (install the Google Cloud CLI)"
command -v curl >/dev/null 2>&1 || die "curl is not on PATH"
[ -f "$here/service.yaml" ] || die "$here/service.yaml is missing"

# Names of everything this script manages. Regional resources carry the same name in every region.
IMAGE="$REGION-docker.pkg.dev/$PROJECT_ID/$SERVICE/$SERVICE:$TAG"
RUNTIME_SA_NAME="$SERVICE-runtime"
RUNTIME_SA="$RUNTIME_SA_NAME@$PROJECT_ID.iam.gserviceaccount.com"
NETWORK="$SERVICE-vpc"
SUBNET="$SERVICE-egress"
EGRESS_IP_NAME="$SERVICE-egress-ip"
ROUTER="$SERVICE-router"
NAT="$SERVICE-nat"
LB_IP_NAME="$SERVICE-lb-ip"
NEG="$SERVICE-neg"
BACKEND="$SERVICE-backend"
URL_MAP="$SERVICE-urlmap"
SSL_POLICY="$SERVICE-tls"
# A Google-managed certificate cannot change its domains: a new domain gets a new certificate.
CERT=$(printf '%s-cert-%s' "$SERVICE" "${DOMAIN//./-}" | cut -c1-63 | sed 's/-*$//')
HTTPS_PROXY="$SERVICE-https-proxy"
HTTPS_RULE="$SERVICE-https"
REDIRECT_MAP="$SERVICE-http-redirect"
HTTP_PROXY="$SERVICE-http-proxy"
HTTP_RULE="$SERVICE-http"
LOG_BUCKET="$SERVICE-runtime"
LOG_FILTER="resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"$SERVICE\""

# The TTL field and its collection groups, and the audit search indexes: the same as
# deploy/cloudrun/firestore.indexes.json and docs/storage.md (the deploy test checks they agree).
TTL_FIELD="_expireAt"
TTL_GROUPS=(audit agentSessions verificationSessions pendingVerifications callerCounters agentRequestWindows totpUses idvUses usage usageCallers
  dataProtectionKeys apiKeys approvals settingsChanges stepUpLinks stepUpFlows recoveryNotices tenants reconciliation)
AUDIT_INDEX_FIELDS=(action outcome agent.subjectId caller.idHash)

# Roles of the runtime service account, each for one reason (docs/deploy.md#iam):
#   roles/datastore.user                  read and write Firestore documents, run transactions, list collections (purge)
#   roles/secretmanager.secretAccessor    on each secret service.yaml mounts, not on the project
# Not granted: logging.logWriter (Cloud Run ships stdout itself; the portal never calls the Logging API),
# cloudtrace.agent (the portal reads the trace header for log correlation but exports no spans).
PROJECT_ROLES=(roles/datastore.user)

APIS=(run.googleapis.com artifactregistry.googleapis.com cloudbuild.googleapis.com firestore.googleapis.com
  secretmanager.googleapis.com compute.googleapis.com logging.googleapis.com iam.googleapis.com)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 2' TERM

# gcloud in this project, never prompting.
gc() { gcloud "$@" --project="$PROJECT_ID" --quiet; }

# Describes a resource: prints what --format asks for and succeeds when it exists; fails (status 1) when it
# does not exist; stops the script on any other error (permissions, API disabled), with gcloud's message.
describe() {
  local out
  if out=$(gcloud "$@" --project="$PROJECT_ID" 2>"$work/err"); then
    printf '%s' "$out"
    return 0
  fi
  if grep -qiE 'not[ _]?found|was not found|does not exist|cannot find|unknown service account' "$work/err"; then
    return 1
  fi
  cat "$work/err" >&2
  die "gcloud $1 $2 $3 failed (above)"
}

contains_line() { grep -qxF -- "$1" <<<"$2"; }

# ---------------------------------------------------------------------------------------------------
enable_apis() {
  step "APIs"
  local enabled missing=() api
  enabled=$(gc services list --enabled --format='value(config.name)')
  for api in "${APIS[@]}"; do
    contains_line "$api" "$enabled" || missing+=("$api")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    gc services enable "${missing[@]}"
  fi
}

build_image() {
  step "Artifact Registry and the image $IMAGE"
  if ! describe artifacts repositories describe "$SERVICE" --location="$REGION" --format='value(name)' >/dev/null; then
    gc artifacts repositories create "$SERVICE" --location="$REGION" --repository-format=docker \
      --description="Portal container images"
  fi
  if describe artifacts docker images describe "$IMAGE" --format='value(image_summary.digest)' >/dev/null; then
    note "the image is already built (tags name commits: a new commit gets a new tag)"
  else
    # Cloud Build runs `docker build -f deploy/cloudrun/Dockerfile` on the repository (no local Docker needed).
    gc builds submit "$repo_root" --config="$here/cloudbuild.yaml" --substitutions="_IMAGE=$IMAGE"
  fi
}

firestore() {
  step "Firestore database $FIRESTORE_DATABASE, indexes and TTL"
  local type
  if type=$(describe firestore databases describe --database="$FIRESTORE_DATABASE" --format='value(type)'); then
    [ "$type" = FIRESTORE_NATIVE ] || die "Firestore database $FIRESTORE_DATABASE is in $type mode; the portal needs Native mode (a new --firestore-database)"
  else
    gc firestore databases create --database="$FIRESTORE_DATABASE" --location="$FIRESTORE_LOCATION" \
      --type=firestore-native --delete-protection
  fi

  # Audit search: one composite index for every combination of the equality filters, each followed by `at`
  # descending (docs/storage.md): real Firestore refuses a query whose exact index is missing.
  local existing mask i line configs n=${#AUDIT_INDEX_FIELDS[@]}
  existing=$(gc firestore indexes composite list --database="$FIRESTORE_DATABASE" \
    --format='value(name.segment(-3),queryScope,fields[0].fieldPath,fields[0].order,fields[1].fieldPath,fields[1].order,fields[2].fieldPath,fields[2].order,fields[3].fieldPath,fields[3].order,fields[4].fieldPath,fields[4].order)' |
    sed 's/\t*$//')
  for ((mask = 1; mask < (1 << n); mask++)); do
    line="audit	COLLECTION"
    configs=()
    for ((i = 0; i < n; i++)); do
      if ((mask & (1 << i))); then
        line+="	${AUDIT_INDEX_FIELDS[i]}	ASCENDING"
        configs+=("--field-config=field-path=${AUDIT_INDEX_FIELDS[i]},order=ascending")
      fi
    done
    line+="	at	DESCENDING"
    if ! contains_line "$line" "$existing"; then
      gc firestore indexes composite create --database="$FIRESTORE_DATABASE" --collection-group=audit \
        --query-scope=collection "${configs[@]}" --field-config=field-path=at,order=descending --async
    fi
  done

  local group state scopes token
  for group in "${TTL_GROUPS[@]}"; do
    # The TTL policy: Firestore deletes a document some time (up to a day) after its _expireAt.
    state=$(describe firestore indexes fields describe "$TTL_FIELD" --collection-group="$group" \
      --database="$FIRESTORE_DATABASE" --format='value(ttlConfig.state)') || state=""
    if [ "$state" != ACTIVE ] && [ "$state" != CREATING ]; then
      gc firestore fields ttls update "$TTL_FIELD" --collection-group="$group" --database="$FIRESTORE_DATABASE" --enable-ttl
    fi
    # The purge job's collection-group query on _expireAt needs an ascending index in collection-group
    # scope. `gcloud firestore indexes fields update` only writes collection scope, so this one setting
    # goes to the Firestore Admin API directly; the token is passed on stdin, never on a command line.
    scopes=$(describe firestore indexes fields describe "$TTL_FIELD" --collection-group="$group" \
      --database="$FIRESTORE_DATABASE" --format='value(indexConfig.indexes[].queryScope)') || scopes=""
    if [[ ";$scopes;" != *";COLLECTION_GROUP;"* ]]; then
      token=$(gcloud auth print-access-token --quiet)
      printf 'Authorization: Bearer %s\n' "$token" | curl -fsS -X PATCH -H @- -H 'Content-Type: application/json' \
        --data '{"indexConfig":{"indexes":[{"queryScope":"COLLECTION","fields":[{"fieldPath":"_expireAt","order":"ASCENDING"}]},{"queryScope":"COLLECTION_GROUP","fields":[{"fieldPath":"_expireAt","order":"ASCENDING"}]}]}}' \
        "https://firestore.googleapis.com/v1/projects/$PROJECT_ID/databases/$FIRESTORE_DATABASE/collectionGroups/$group/fields/$TTL_FIELD?updateMask=indexConfig" >/dev/null
      token=""
    fi
  done
}

service_account() {
  step "Runtime service account $RUNTIME_SA"
  if ! describe iam service-accounts describe "$RUNTIME_SA" --format='value(email)' >/dev/null; then
    gc iam service-accounts create "$RUNTIME_SA_NAME" --display-name="Portal on Cloud Run" \
      --description="Identity of the portal's Cloud Run service: Firestore and its own secrets, nothing else"
  fi
  local granted role
  granted=$(gc projects get-iam-policy "$PROJECT_ID" --flatten='bindings[].members' \
    --filter="bindings.members:serviceAccount:$RUNTIME_SA" --format='value(bindings.role)')
  for role in "${PROJECT_ROLES[@]}"; do
    contains_line "$role" "$granted" ||
      gc projects add-iam-policy-binding "$PROJECT_ID" --member="serviceAccount:$RUNTIME_SA" --role="$role" --condition=None
  done
}

# The secrets are those service.yaml mounts (`secretName:`): adding a tenant's secret there is enough.
SECRETS=()
EMPTY_SECRETS=()
secrets() {
  step "Secret Manager secrets (created empty; values are added by the operator, docs/deploy.md#secrets)"
  local name granted
  mapfile -t SECRETS < <(sed -n 's/^[[:space:]]*secretName:[[:space:]]*\([A-Za-z0-9_-]*\)[[:space:]]*$/\1/p' "$here/service.yaml" | sort -u)
  [ ${#SECRETS[@]} -gt 0 ] || die "service.yaml mounts no secret (secretName:)"
  for name in "${SECRETS[@]}"; do
    if ! describe secrets describe "$name" --format='value(name)' >/dev/null; then
      gc secrets create "$name" --replication-policy=user-managed --locations="$REGION" --labels="app=$SERVICE"
    fi
    granted=$(gc secrets get-iam-policy "$name" --flatten='bindings[].members' \
      --filter="bindings.members:serviceAccount:$RUNTIME_SA" --format='value(bindings.role)')
    contains_line roles/secretmanager.secretAccessor "$granted" ||
      gc secrets add-iam-policy-binding "$name" --member="serviceAccount:$RUNTIME_SA" --role=roles/secretmanager.secretAccessor
    if [ -z "$(gc secrets versions list "$name" --filter=state=ENABLED --limit=1 --format='value(name)')" ]; then
      EMPTY_SECRETS+=("$name")
    fi
  done
}

EGRESS_IP=""
egress() {
  step "Dedicated egress IP in $REGION: VPC, subnet, static IP, Cloud Router, Cloud NAT"
  if ! describe compute networks describe "$NETWORK" --format='value(name)' >/dev/null; then
    gc compute networks create "$NETWORK" --subnet-mode=custom \
      --description="Portal: Direct VPC egress of the Cloud Run service, out through Cloud NAT"
  fi
  local pga
  if pga=$(describe compute networks subnets describe "$SUBNET" --region="$REGION" --format='value(privateIpGoogleAccess)'); then
    # Private Google Access keeps Firestore and Secret Manager traffic off the NAT.
    [ "${pga,,}" = true ] || gc compute networks subnets update "$SUBNET" --region="$REGION" --enable-private-ip-google-access
  else
    gc compute networks subnets create "$SUBNET" --network="$NETWORK" --region="$REGION" --range="$EGRESS_RANGE" \
      --enable-private-ip-google-access
  fi
  if ! EGRESS_IP=$(describe compute addresses describe "$EGRESS_IP_NAME" --region="$REGION" --format='value(address)'); then
    gc compute addresses create "$EGRESS_IP_NAME" --region="$REGION" --network-tier=PREMIUM \
      --description="Portal: the one source address of calls to customers' IdPs in $REGION (customers allow-list it)"
    EGRESS_IP=$(describe compute addresses describe "$EGRESS_IP_NAME" --region="$REGION" --format='value(address)')
  fi
  if ! describe compute routers describe "$ROUTER" --region="$REGION" --format='value(name)' >/dev/null; then
    gc compute routers create "$ROUTER" --network="$NETWORK" --region="$REGION"
  fi
  local nat_ips
  if nat_ips=$(describe compute routers nats describe "$NAT" --router="$ROUTER" --region="$REGION" --format='value(natIps.list())'); then
    # The NAT must use that address and no other, or customers' allow-lists break at random.
    [[ "$nat_ips" == */addresses/"$EGRESS_IP_NAME" && "$nat_ips" != *,* ]] ||
      gc compute routers nats update "$NAT" --router="$ROUTER" --region="$REGION" --nat-external-ip-pool="$EGRESS_IP_NAME"
  else
    # Only the portal's subnet, only the reserved address (never auto-allocated ones). 256 ports per
    # instance address: one NAT address serves 252 of them (Direct VPC egress: two per instance).
    gc compute routers nats create "$NAT" --router="$ROUTER" --region="$REGION" \
      --nat-custom-subnet-ip-ranges="$SUBNET" --nat-external-ip-pool="$EGRESS_IP_NAME" \
      --min-ports-per-vm=256 --enable-logging --log-filter=ERRORS_ONLY
  fi
}

logs() {
  step "Runtime logs: bucket $LOG_BUCKET kept 1 day, routed from the service, kept out of _Default"
  local retention filter names filters
  if retention=$(describe logging buckets describe "$LOG_BUCKET" --location="$LOG_LOCATION" --format='value(retentionDays)'); then
    [ "$retention" = 1 ] || gc logging buckets update "$LOG_BUCKET" --location="$LOG_LOCATION" --retention-days=1
  else
    gc logging buckets create "$LOG_BUCKET" --location="$LOG_LOCATION" --retention-days=1 \
      --description="Portal runtime logs: no PII, kept one day"
  fi
  local destination="logging.googleapis.com/projects/$PROJECT_ID/locations/$LOG_LOCATION/buckets/$LOG_BUCKET"
  if filter=$(describe logging sinks describe "$LOG_BUCKET" --format='value(filter)'); then
    [ "$filter" = "$LOG_FILTER" ] || gc logging sinks update "$LOG_BUCKET" "$destination" --log-filter="$LOG_FILTER"
  else
    gc logging sinks create "$LOG_BUCKET" "$destination" --log-filter="$LOG_FILTER" \
      --description="Portal runtime logs to their one-day bucket"
  fi
  # The _Default sink would otherwise keep a second copy for 30 days. Adding an exclusion twice fails,
  # so it is added only when missing, and corrected when its filter differs.
  names=$(describe logging sinks describe _Default --format='value(exclusions[].name)') || die "the project has no _Default log sink"
  filters=$(describe logging sinks describe _Default --format='value(exclusions[].filter)')
  if [[ ";$names;" != *";$LOG_BUCKET;"* ]]; then
    gc logging sinks update _Default --add-exclusion="name=$LOG_BUCKET,filter=$LOG_FILTER"
  elif [[ ";$filters;" != *";$LOG_FILTER;"* ]]; then
    gc logging sinks update _Default --update-exclusion="name=$LOG_BUCKET,filter=$LOG_FILTER"
  fi
}

LB_IP=""
CERT_STATUS=""
load_balancer() {
  step "External HTTPS load balancer for $DOMAIN"
  if ! LB_IP=$(describe compute addresses describe "$LB_IP_NAME" --global --format='value(address)'); then
    gc compute addresses create "$LB_IP_NAME" --global --ip-version=IPV4 --network-tier=PREMIUM \
      --description="Portal: the address $DOMAIN points at"
    LB_IP=$(describe compute addresses describe "$LB_IP_NAME" --global --format='value(address)')
  fi
  # A serverless NEG per region; the backend service holds each region's NEG.
  if ! describe compute network-endpoint-groups describe "$NEG" --region="$REGION" --format='value(name)' >/dev/null; then
    gc compute network-endpoint-groups create "$NEG" --region="$REGION" --network-endpoint-type=serverless \
      --cloud-run-service="$SERVICE"
  fi
  local backends
  if ! backends=$(describe compute backend-services describe "$BACKEND" --global --format='value(backends[].group)'); then
    # Request logging stays off here: Cloud Run's own request logs land in the one-day bucket.
    gc compute backend-services create "$BACKEND" --global --load-balancing-scheme=EXTERNAL_MANAGED --no-enable-logging
    backends=""
  fi
  if [[ ";$backends;" != *"/regions/$REGION/networkEndpointGroups/$NEG;"* ]]; then
    gc compute backend-services add-backend "$BACKEND" --global --network-endpoint-group="$NEG" \
      --network-endpoint-group-region="$REGION"
  fi
  if ! describe compute url-maps describe "$URL_MAP" --global --format='value(name)' >/dev/null; then
    gc compute url-maps create "$URL_MAP" --global --default-service="$BACKEND"
  fi
  if ! describe compute ssl-policies describe "$SSL_POLICY" --global --format='value(name)' >/dev/null; then
    gc compute ssl-policies create "$SSL_POLICY" --global --profile=MODERN --min-tls-version=1.2
  fi
  if ! CERT_STATUS=$(describe compute ssl-certificates describe "$CERT" --global --format='value(managed.status)'); then
    gc compute ssl-certificates create "$CERT" --global --domains="$DOMAIN"
    CERT_STATUS=$(describe compute ssl-certificates describe "$CERT" --global --format='value(managed.status)')
  fi
  local certs
  if certs=$(describe compute target-https-proxies describe "$HTTPS_PROXY" --global --format='value(sslCertificates.list())'); then
    [[ "$certs" == */sslCertificates/"$CERT" && "$certs" != *,* ]] ||
      gc compute target-https-proxies update "$HTTPS_PROXY" --global --ssl-certificates="$CERT"
  else
    gc compute target-https-proxies create "$HTTPS_PROXY" --global --url-map="$URL_MAP" \
      --ssl-certificates="$CERT" --ssl-policy="$SSL_POLICY"
  fi
  if ! describe compute forwarding-rules describe "$HTTPS_RULE" --global --format='value(name)' >/dev/null; then
    gc compute forwarding-rules create "$HTTPS_RULE" --global --load-balancing-scheme=EXTERNAL_MANAGED \
      --network-tier=PREMIUM --address="$LB_IP_NAME" --target-https-proxy="$HTTPS_PROXY" --ports=443
  fi
  # Plain http on the same address only redirects to https.
  if ! describe compute url-maps describe "$REDIRECT_MAP" --global --format='value(name)' >/dev/null; then
    printf 'name: %s\ndefaultUrlRedirect:\n  redirectResponseCode: MOVED_PERMANENTLY_DEFAULT\n  httpsRedirect: true\n' \
      "$REDIRECT_MAP" >"$work/redirect.yaml"
    gc compute url-maps import "$REDIRECT_MAP" --global --source="$work/redirect.yaml"
  fi
  if ! describe compute target-http-proxies describe "$HTTP_PROXY" --global --format='value(name)' >/dev/null; then
    gc compute target-http-proxies create "$HTTP_PROXY" --global --url-map="$REDIRECT_MAP"
  fi
  if ! describe compute forwarding-rules describe "$HTTP_RULE" --global --format='value(name)' >/dev/null; then
    gc compute forwarding-rules create "$HTTP_RULE" --global --load-balancing-scheme=EXTERNAL_MANAGED \
      --network-tier=PREMIUM --address="$LB_IP_NAME" --target-http-proxy="$HTTP_PROXY" --ports=80
  fi
}

# service.yaml with its ${NAME} placeholders filled in; anything left unfilled stops the deploy.
render_service() {
  local value key out="$work/service.yaml"
  cp "$here/service.yaml" "$out"
  for key in PROJECT_ID REGION SERVICE IMAGE RUNTIME_SA NETWORK SUBNET DOMAIN FIRESTORE_DATABASE; do
    value=${!key}
    value=${value//\\/\\\\}
    value=${value//&/\\&}
    value=${value//|/\\|}
    sed -i "s|\${$key}|$value|g" "$out"
  done
  if grep -n '[$][{]' "$out" >&2; then
    die "service.yaml has placeholders deploy.sh does not know (above)"
  fi
  printf '%s' "$out"
}

deploy_service() {
  step "Cloud Run service $SERVICE"
  local rendered
  rendered=$(render_service)
  gc run services replace "$rendered" --region="$REGION"
}

summary() {
  printf '\n'
  printf 'Egress IP in %s: %s\n' "$REGION" "$EGRESS_IP"
  printf '  Every call to a customer IdP from this region leaves from this address. Customers add it to the\n'
  printf '  network zone / named location that their API token or app is limited to (docs/deploy.md#egress-ip).\n'
  printf 'Load balancer IP: %s\n' "$LB_IP"
  printf '  DNS: an A record %s -> %s. Certificate %s: %s (ACTIVE once DNS points here).\n' "$DOMAIN" "$LB_IP" "$CERT" "${CERT_STATUS:-unknown}"
  printf 'PORTAL_EGRESS_IP %s %s\n' "$REGION" "$EGRESS_IP"
}

enable_apis
build_image
firestore
service_account
secrets
egress
logs
load_balancer
if [ ${#EMPTY_SECRETS[@]} -gt 0 ]; then
  summary
  printf '\nThese secrets have no value yet, so the service was not deployed:\n' >&2
  for name in "${EMPTY_SECRETS[@]}"; do
    printf '  %s\n' "$name" >&2
  done
  printf 'Add each value on stdin (docs/deploy.md#secrets), e.g. for the two portal keys\n' >&2
  printf '  openssl rand -base64 32 | gcloud secrets versions add NAME --data-file=- --project=%s\n' "$PROJECT_ID" >&2
  printf 'and for a customer credential  gcloud secrets versions add NAME --data-file=- --project=%s  (paste, then Ctrl-D);\nthen run this script again.\n' "$PROJECT_ID" >&2
  exit 3
fi
deploy_service
summary
