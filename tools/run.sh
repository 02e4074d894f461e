#!/usr/bin/env bash
# The README's first command: installs what is missing (Debian packages),
# builds, starts caseledgerd on an embedded RocksDB data directory (./data),
# loads the deterministic demo caseload through the API, prints what to try
# next, and keeps the server in the foreground until Ctrl-C (graceful
# shutdown). The server generates the key store's master key in
# $DATA_DIR/master.key on first start (demo default; see README, "Erasure").
# Env: DATA_DIR (default data), LISTEN (default 127.0.0.1:50051),
#      DEMO_CASES (default 60), JOBS (default 2),
#      ACCESS_DIR (default <DATA_DIR>-access: the demo policy, tokens and
#      pseudonym key, readable by the owner only; tokens and key are made
#      once, the policy is rewritten at every start).
# The demo serves plaintext on loopback (--plaintext_loopback) with demo
# tokens; never expose it. README.md, "Security and access", shows TLS.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
JOBS="${JOBS:-2}"
DATA_DIR="${DATA_DIR:-data}"
LISTEN="${LISTEN:-127.0.0.1:50051}"
DEMO_CASES="${DEMO_CASES:-60}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$JOBS" --target caseledgerd casectl
ACCESS_DIR="${ACCESS_DIR:-$DATA_DIR-access}"

# Demo principals, each with a random bearer token in a file of its own; the
# policy holds only the tokens' SHA-256. Tokens are never printed.
random_token() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
token_hash() { printf '%s' "$(cat "$1")" | sha256sum | cut -d' ' -f1; }
# Tokens and the pseudonym key are made once; the policy is rewritten from
# the tokens' hashes at every start (so it follows this script's changes).
mkdir -p "$ACCESS_DIR"
chmod 700 "$ACCESS_DIR"
(
  umask 077
  for who in admin caseworker analyst auditor; do
    [ -f "$ACCESS_DIR/$who.token" ] || random_token >"$ACCESS_DIR/$who.token"
  done
  [ -f "$ACCESS_DIR/pseudonym.key" ] ||
    head -c 32 /dev/urandom >"$ACCESS_DIR/pseudonym.key"
  cat >"$ACCESS_DIR/policy.textproto" <<POLICY
# Demo access policy (caseledger.v1.AccessPolicy), written by tools/run.sh.
# No consent_required_labels here, so that demo-admin can export the whole
# ledger (a subscription never breaks glass); README.md shows a policy that
# requires consent for Part 2 and counselling notes.
principals {
  # Loads the demo caseload and runs the server: every team, operations.
  id: "demo-admin"
  roles: [ROLE_SUPERVISOR, ROLE_SERVICE, ROLE_ADMIN]
  organization: "demo"
  teams: "*"
  programs: "*"
  event_types: "*"
  # The demo caseload's events name its fictional staff (case managers,
  # supervisors, a trainer) as their actors; loading it means writing on
  # their behalf, which must be granted explicitly.
  may_write_as: "*"
  # Every label: it also exports the whole ledger.
  allowed_labels: [SENSITIVITY_LABEL_HEALTH, SENSITIVITY_LABEL_FINANCIAL,
                   SENSITIVITY_LABEL_TRAUMA, SENSITIVITY_LABEL_SUBSTANCE_USE_PART2,
                   SENSITIVITY_LABEL_COUNSELLING_NOTES]
  token_sha256_hex: "$(token_hash "$ACCESS_DIR/admin.token")"
}
principals {
  # The case manager of case-000001 (and others): their own cases only.
  id: "cm-0001"
  roles: ROLE_CASEWORKER
  organization: "demo"
  allowed_labels: [SENSITIVITY_LABEL_HEALTH, SENSITIVITY_LABEL_SUBSTANCE_USE_PART2]
  may_break_glass: true
  token_sha256_hex: "$(token_hash "$ACCESS_DIR/caseworker.token")"
}
principals {
  id: "demo-analyst"
  roles: ROLE_ANALYST
  organization: "demo"
  token_sha256_hex: "$(token_hash "$ACCESS_DIR/analyst.token")"
}
principals {
  id: "demo-auditor"
  roles: ROLE_AUDITOR
  organization: "demo"
  allowed_labels: [SENSITIVITY_LABEL_HEALTH, SENSITIVITY_LABEL_FINANCIAL,
                   SENSITIVITY_LABEL_TRAUMA, SENSITIVITY_LABEL_SUBSTANCE_USE_PART2,
                   SENSITIVITY_LABEL_COUNSELLING_NOTES]
  token_sha256_hex: "$(token_hash "$ACCESS_DIR/auditor.token")"
}
POLICY
)
CASECTL="build/tools/casectl/casectl --server=$LISTEN --token-file=$ACCESS_DIR/admin.token"
AS="build/tools/casectl/casectl --server=$LISTEN --token-file=$ACCESS_DIR"

build/services/caseledgerd --data_dir="$DATA_DIR" --listen="$LISTEN" \
  --plaintext_loopback --policy="$ACCESS_DIR/policy.textproto" \
  --pseudonym_key_file="$ACCESS_DIR/pseudonym.key" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true; wait "$server" || true' INT TERM
for _ in $(seq 1 150); do
  if $CASECTL --timeout=1 status >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "run: caseledgerd did not start (see above)" >&2
    exit 1
  fi
  sleep 0.2
done
$CASECTL demo --cases="$DEMO_CASES" --seed=1

cat <<MSG

caseledgerd is serving on $LISTEN with data in $DATA_DIR (Ctrl-C stops it),
plaintext on loopback, with the demo policy and tokens in $ACCESS_DIR.
Try, in another terminal:
  $CASECTL plan case-000001
  $CASECTL timeline case-000001
  $CASECTL metrics --by=program
  $CASECTL status
  $CASECTL tail --from=1
  $CASECTL export --out=ledger.jsonl
  $CASECTL erase case-000002 --reason="demo request" --legal-basis="GDPR art. 17"
  $CASECTL --help
As other principals (their token files are in $ACCESS_DIR):
  $AS/caseworker.token --purpose=treatment timeline case-000001
  $AS/analyst.token metrics --by=case-manager
  $AS/analyst.token plan case-000001        # denied (exit 7)
  $AS/auditor.token history case-000001
  $AS/auditor.token verify
  $AS/auditor.token access-log query --case=case-000001
  $AS/auditor.token access-log verify
MSG
wait "$server"
