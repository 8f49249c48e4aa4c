#!/usr/bin/env bash
# Fraud intelligence end to end: indicators of each kind go onto gb.intel
# (JSON with kcat, one protobuf encoded by protoc), matcher stores them, and
# notifier's GET /v1/risk answers for them in other notations: a subdomain
# URL of a listed domain, an exact host listing, an IDN, an app id with
# spaces. An indicator already expired when published, a withdrawn one and
# one whose expiry passed before Redis removed it are not listed; a
# confirmation keeps the first sighting; bad requests are 400 with the
# reason; bad indicators are dead letters with gb-reason.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

it_init intel
it_topics gb.registry gb.registry.results gb.intel gb.index gb.events gb.alerts gb.dlq
it_redis
it_hash_key
port=$(gb_free_port)
prefix="t$IT_SUFFIX:"

common=(
  --log.level=info
  --redis.url="$IT_REDIS_URL" --redis.prefix="$prefix"
  --topic.registry="$IT_TOPIC_gb_registry" --topic.registry-results="$IT_TOPIC_gb_registry_results"
  --topic.intel="$IT_TOPIC_gb_intel" --topic.index="$IT_TOPIC_gb_index" --topic.events="$IT_TOPIC_gb_events"
  --topic.alerts="$IT_TOPIC_gb_alerts" --topic.dlq="$IT_TOPIC_gb_dlq"
  --kafka.bootstrap.servers="$IT_BOOTSTRAP" --kafka.session.timeout.ms=6000
)
it_start matcher matcher/matcher "${common[@]}" --matcher.group="m$IT_SUFFIX" \
  --index.hash-key-file="$IT_HASH_KEY_FILE" ${IT_KEYS_FILE:+--index.keys-file="$IT_KEYS_FILE"} --admin.port=0
it_start notifier notifier/notifier "${common[@]}" --notifier.group="n$IT_SUFFIX" --http.port="$port" \
  --index.hash-key-file="$IT_HASH_KEY_FILE"
it_wait_log matcher "kafka.assigned topic=$IT_TOPIC_gb_intel" 60 "matcher assignment"
it_wait_log notifier "notifier.started" 30 "notifier start"

# ---- indicators ----
intel() { it_produce "$IT_TOPIC_gb_intel" "$1" "$2"; }
intel phone:+8617000000001 '{"kind":"phone","value":"+86 170 0000 0001","source":"national-12381","confidence":90,"first_seen":"2026-11-01T00:00:00Z","expires":"2099-01-01T00:00:00Z"}'
intel domain:example-fraud.com '{"kind":"domain","value":"https://pay.Example-Fraud.com:8443/x?y=1","source":"bureau-3"}'
intel domain:login.shared-host.com '{"kind":"domain","value":"https://login.shared-host.com/","exact":true,"confidence":70}'
intel domain:idn '{"kind":"domain","value":"https://网上银行.中国银行.中国/"}'
intel app:com.fraud.loan '{"kind":"app","value":"  com.fraud.loan \t","action":"add","confidence":80}'
intel phone:+8617000000002 '{"kind":"phone","value":"17000000002","expires":"2020-01-01T00:00:00Z"}'
intel app:com.withdrawn '{"kind":"app","value":"com.withdrawn","source":"s1"}'
intel app:com.withdrawn '{"kind":"app","value":"com.withdrawn","action":"withdraw"}'
# A re-confirmation, later, by another source: first_seen stays 2026-11-01.
intel phone:+8617000000001 '{"kind":"phone","value":"017000000001","action":"confirm","source":"bureau-3","confidence":95,"first_seen":"2026-11-20T00:00:00Z","expires":"2099-06-01T00:00:00Z"}'
# protobuf, encoded by protoc as a partner's generated code would.
cat >"$IT_DIR/pb.txt" <<'EOF'
version: 1
kind: INDICATOR_KIND_DOMAIN
value: "https://evil.github.io/login"
source: "pb-feed"
confidence: 60
first_seen_ms: 1795435140000
EOF
protoc --proto_path="$GB_ROOT/proto" --encode=goldenbell.v1.FraudIndicator goldenbell/v1/intel.proto \
  <"$IT_DIR/pb.txt" >"$IT_DIR/pb.bin" || it_fail "protoc could not encode the indicator"
kcat -P -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_intel" -k domain:evil.github.io \
  -H content-type=application/x-protobuf -X enable.idempotence=true -X acks=all \
  "$IT_DIR/pb.bin" 2>>"$IT_DIR/kcat.log" || it_fail "kcat could not publish the protobuf indicator"
# Bad indicators: dead letters.
intel bad:1 '{"kind":"phone","value":'
intel bad:2 '{"kind":"email","value":"a@b.com"}'
intel bad:3 '{"kind":"phone","value":"110"}'
intel bad:4 '{"kind":"phone","value":"17000000003","first_seen":"2026-12-01T00:00:00Z","expires":"2026-11-01T00:00:00Z"}'

# applied KIND ACTION VALUE [MORE]: matcher logged it; MORE is a regex.
applied() {
  local v
  v=$(sed 's/[.+]/\\&/g' <<<"$3")
  it_wait_log matcher "intel.applied kind=$1 action=$2 value=$v ${4:-}" 30 "$1 $3 $2 applied"
}
applied phone add +8617000000001
applied domain add example-fraud.com
applied domain add login.shared-host.com
applied domain add xn--fiqs8s856bruk.xn--fiqs8s
applied app add com.fraud.loan
applied phone add +8617000000002 '.*live=no reason=expired'
applied app withdraw com.withdrawn
applied phone confirm +8617000000001
applied domain add evil.github.io 'source=pb-feed confidence=60'

dlq() { timeout 20 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_dlq" -o beginning -e -q -f '%k %h\n' 2>/dev/null || true; }
four_dead() { [ "$(dlq | grep -c 'gb-reason=')" -ge 4 ]; }
gb_wait_until 60 "4 dead letters" four_dead || it_fail "dead letters: $(dlq)"
dlq >"$IT_DIR/dlq.txt"
for want in 'bad:1 .*gb-reason=bad_json' 'bad:2 .*gb-reason=unknown_enum,gb-field=kind' \
            'bad:3 .*gb-reason=invalid_value,gb-field=value,gb-detail=value: a service number cannot be a fraud indicator' \
            'bad:4 .*gb-reason=invalid_value,gb-field=expires' 'gb-service=matcher'; do
  grep -Eq -- "$want" "$IT_DIR/dlq.txt" || it_fail "no dead letter like '$want': $(cat "$IT_DIR/dlq.txt")"
done
[ "$(grep -c 'gb-reason=' "$IT_DIR/dlq.txt")" -eq 4 ] || it_fail "want 4 dead letters: $(cat "$IT_DIR/dlq.txt")"

# ---- GET /v1/risk ----
IT_HTTP=$port
it_token analyst "" bureau_admin
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/risk?phone=110")" = 401 ] ||
  it_fail "GET /v1/risk answered without a token"
# risk PARAM=VALUE...: sets status and body.
risk() {
  local args=() a
  for a in "$@"; do args+=(--data-urlencode "$a"); done
  body=$(curl -sS -G -w '\n%{http_code}' -H "Authorization: Bearer $IT_TOKEN" "${args[@]}" "http://127.0.0.1:$port/v1/risk") ||
    it_fail "curl failed for $*"
  status=${body##*$'\n'}
  body=${body%$'\n'*}
}
# risk_raw QUERY: the query string as given, not encoded.
risk_raw() {
  body=$(curl -sS -w '\n%{http_code}' -H "Authorization: Bearer $IT_TOKEN" "http://127.0.0.1:$port/v1/risk?$1") || it_fail "curl failed for $1"
  status=${body##*$'\n'}
  body=${body%$'\n'*}
}
# check DESCRIPTION PYTHON-EXPRESSION: d is the decoded body.
check() {
  "$GB_PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' \
    "$body" "$2" 2>>"$IT_DIR/check.log" || it_fail "$1: status $status, body $body"
}
listed() { # PARAM=VALUE LISTED-VALUE
  risk "$1"
  [ "$status" = 200 ] || it_fail "$1: status $status, body $body"
  check "$1 listed as $2" "d['listed'] is True and d['indicator']['value'] == '$2'"
}
not_listed() {
  risk "$1"
  [ "$status" = 200 ] || it_fail "$1: status $status, body $body"
  check "$1 not listed" "d['listed'] is False and d['indicator'] is None"
}

listed 'phone=0086 170-0000-0001' +8617000000001
check "phone query echo and confirmation" \
  "d['query'] == {'kind':'phone','value':'0086 170-0000-0001','normalised':'+8617000000001'} and
   d['indicator'] == {'kind':'phone','value':'+8617000000001','source':'bureau-3','confidence':95,
                      'first_seen':'2026-11-01T00:00:00.000Z','expires':'2099-06-01T00:00:00.000Z'}"
listed 'url=https://a.b.pay.example-fraud.com:8443/p?q=1' example-fraud.com
check "url normalised to its host" \
  "d['query']['kind'] == 'domain' and d['query']['normalised'] == 'a.b.pay.example-fraud.com' and
   d['indicator']['source'] == 'bureau-3' and d['indicator']['confidence'] == 50 and
   d['indicator']['expires'] is None and d['indicator']['first_seen'] is not None"
listed 'domain=EXAMPLE-FRAUD.com' example-fraud.com
not_listed 'domain=notexample-fraud.com'
not_listed 'url=https://example-fraud.com.cn/'
listed 'domain=login.shared-host.com' login.shared-host.com
listed 'url=http://x.login.shared-host.com/' login.shared-host.com
not_listed 'domain=shared-host.com'
not_listed 'domain=other.shared-host.com'
listed 'url=http://www.中国银行.中国/' xn--fiqs8s856bruk.xn--fiqs8s
listed 'url=https://evil.github.io/other' evil.github.io
check "protobuf indicator" \
  "d['indicator']['source'] == 'pb-feed' and d['indicator']['confidence'] == 60 and
   d['indicator']['first_seen'] == '2026-11-23T11:59:00.000Z'"
not_listed 'url=https://good.github.io/'
listed 'app= com.fraud.loan ' com.fraud.loan
check "app confidence" "d['query']['normalised'] == 'com.fraud.loan' and d['indicator']['confidence'] == 80"
not_listed 'app=com.fraud.Loan'
not_listed 'phone=17000000002'   # expired when published
not_listed 'app=com.withdrawn'   # withdrawn
not_listed 'phone=110'           # a service number is never listed
rc() { redis-cli -p "$IT_REDIS_PORT" "$@"; }
[ "$(rc EXISTS "${prefix}fi:phone:+8617000000002")" = 0 ] || it_fail "an expired indicator was stored"
[ "$(rc EXISTS "${prefix}fi:app:com.withdrawn")" = 0 ] || it_fail "a withdrawn indicator is still stored"
[ "$(rc PTTL "${prefix}fi:phone:+8617000000001")" -gt 0 ] || it_fail "no PEXPIREAT on an expiring indicator"
[ "$(rc TTL "${prefix}fi:domain:example-fraud.com")" = -1 ] || it_fail "a lasting indicator has a TTL"
# Lookups compare expires_ms with now, before Redis removes the key; and a
# record written by the previous matcher (no first_seen_ms) still reads.
rc HSET "${prefix}fi:phone:+8617000000004" source old confidence 50 expires_ms 1000 >/dev/null
rc HSET "${prefix}fi:phone:+8617000000005" source old confidence 40 expires_ms 0 >/dev/null
not_listed 'phone=17000000004'
listed 'phone=17000000005' +8617000000005
check "old record" "d['indicator']['first_seen'] is None and d['indicator']['expires'] is None"

# Bad requests: 400 with the reason.
bad() { # WANT-SUBSTRING PARAM=VALUE...
  local want=$1
  shift
  risk "$@"
  [ "$status" = 400 ] || it_fail "$*: status $status, want 400 ($body)"
  check "$* error" "'$want' in d['error']"
}
bad 'exactly one of phone, domain, url or app (got 0)'
bad 'exactly one of phone, domain, url or app (got 0)' 'number=17000000001'
bad 'exactly one of phone, domain, url or app (got 2)' 'phone=17000000001' 'domain=a.com'
bad 'exactly one of phone, domain, url or app (got 2)' 'phone=17000000001' 'phone=17000000002'
bad 'phone: ' 'phone=1700000000'
bad 'phone: ' 'phone=17000000001 ext 2'
bad 'site: ' 'url=https:///x'
bad 'site: ' 'domain=github.io'
bad 'app: empty' 'app=   '
risk_raw 'phone=17000000001%00x'   # would read as 17000000001 if cut at the NUL
[ "$status" = 400 ] || it_fail "a NUL byte: status $status, want 400 ($body)"
check "NUL byte error" "d['error'] == 'phone: holds a NUL byte'"

# Re-delivery is harmless: the same add again changes nothing but updated_ms.
before=$(rc HGET "${prefix}fi:phone:+8617000000001" first_seen_ms)
intel phone:+8617000000001 '{"kind":"phone","value":"+86 170 0000 0001","action":"confirm","source":"bureau-3","confidence":95,"expires":"2099-06-01T00:00:00Z"}'
confirms() { [ "$(grep -cF 'intel.applied kind=phone action=confirm value=+8617000000001' "$IT_DIR/matcher.log")" -ge 2 ]; }
gb_wait_until 30 "the second confirmation" confirms || it_fail "second confirmation not applied"
[ "$(rc HGET "${prefix}fi:phone:+8617000000001" first_seen_ms)" = "$before" ] || it_fail "first_seen moved"

for i in "${!IT_PIDS[@]}"; do
  gb_pid_stop "${IT_PIDS[$i]}" 20 "${IT_NAMES[$i]}" TERM || it_fail "${IT_NAMES[$i]} ignored SIGTERM"
done
it_wait_log matcher 'event=pipeline.stopped .* clean=yes' 5 "matcher clean stop"
it_wait_log notifier 'event=notifier.stopped .* exit=0' 5 "notifier clean stop"

IT_OK=1
gb_log "PASS: indicators of each kind listed in any notation; expired, withdrawn and bad ones not"
