#!/usr/bin/env bash
# gb-publish against the real broker: a carrier's CSV export and a JSON-lines
# file, each with good and bad lines, are published; the exit status, the
# summary counts and the report (line numbers and reasons) are checked, and
# the topics are read back with kcat to check the exact records, keys and
# headers. Then: --batch (a message holds N newline-separated records),
# --batch with --key (every record on the partition its key chooses, in
# file order), --strict, a delivery the broker refuses, and usage errors.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

it_init publish
it_topics pub.csv pub.jsonl pub.batch pub.keyed1 pub.keyed4 pub.strict
PUB=$GB_BUILD_DIR/tools/gb-publish
[ -x "$PUB" ] || it_fail "$PUB is not built"
export PYTHONIOENCODING=utf-8

# publish NAME WANT_STATUS ARGS...: runs gb-publish (bounded), stderr to
# $IT_DIR/NAME.log, and checks its exit status.
publish() {
  local name=$1 want=$2 rc=0
  shift 2
  timeout 120 "$PUB" -b "$IT_BOOTSTRAP" "$@" 2>"$IT_DIR/$name.log" || rc=$?
  [ "$rc" -eq "$want" ] || it_fail "$name: gb-publish exited $rc, want $want"
}

# has NAME TEXT: NAME's stderr has a line that is exactly TEXT.
has() {
  grep -qxF -- "$2" "$IT_DIR/$1.log" || it_fail "$1: no line '$2' in its output"
}

# messages TOPIC: the topic's messages, one a line, sorted:
# PARTITION<TAB>KEY<TAB>HEADERS<TAB>PAYLOAD, with '\n' in a payload shown
# as the two characters \n and a missing key as "-".
messages() {
  timeout 30 kcat -C -b "$IT_BOOTSTRAP" -t "$1" -o beginning -e -q -J >"$IT_DIR/$1.json" \
    2>>"$IT_DIR/kcat.log" || it_fail "kcat could not read $1"
  "$GB_PYTHON" -c '
import json, sys
for l in sys.stdin:
    m = json.loads(l)
    h = m.get("headers") or []
    hs = ",".join("%s=%s" % (h[i], h[i + 1]) for i in range(0, len(h), 2))
    key = "-" if m["key"] is None else m["key"]
    print("%d\t%s\t%s\t%s" % (m["partition"], key, hs, m["payload"].replace("\n", "\\n")))
' <"$IT_DIR/$1.json" | LC_ALL=C sort -t $'\t' -k2
}

# summary NAME COUNTS: NAME's summary line starts with these counts.
summary() {
  grep -qF -- "gb-publish: summary $2 elapsed_s=" "$IT_DIR/$1.log" ||
    it_fail "$1: summary is not '$2 ...': $(grep summary "$IT_DIR/$1.log")"
}

same() { # NAME WANT_FILE GOT_FILE
  diff -u "$2" "$3" >&2 || it_fail "$1: what was published differs from what was wanted (diff above)"
}

# ---- CSV: a carrier's batch export --------------------------------------
cat >"$IT_DIR/calls.csv" <<'EOF'
call_id,caller,callee,start,duration_s,carrier,status,international
c-1,+8613800138000,13900139000,2026-11-23T10:00:00Z,312,CMCC,final,false
c-2,+8613800138000,13900139000,2026-11-23T10:05:00Z,45,CMCC,final
c-3,+8613800138000,13900139000,2026-11-23T10:06:00Z,12s,CMCC,final,false
c-4,"Zhang, San",13900139000,2026-11-23T10:07:00Z,,CUCC,ongoing,TRUE
"c-5","+86 138 0013 8000","multi
line",2026-11-23T10:08:00Z,7,CTCC,final,0
c-6,+8613800138000,13900139000,2026-11-23T10:09:00Z,60,CMCC,final,maybe
c-7,ab"c,13900139000,2026-11-23T10:09:00Z,60,CMCC,final,no

c-8,+8613800138000,"say ""hi""",2026-11-23T10:10:00Z,-1,CMCC,final,no
EOF
publish csv 0 -t "$IT_TOPIC_pub_csv" --key call_id "$IT_DIR/calls.csv"
summary csv "lines=11 records=8 published=4 rejected=4 failed=0 messages=4"
has csv "gb-publish: rejected by reason: cell_count=1 bad_integer=1 bad_boolean=1 csv_syntax=1"
has csv "line 3: 7 cells, header has 8"
has csv 'line 4: column "duration_s": "12s" is not an integer'
has csv 'line 8: column "international": "maybe" is not a boolean'
has csv 'line 9: CSV syntax error: stray quote (a quote inside an unquoted cell or after a closing quote)'
[ "$(grep -c '^line ' "$IT_DIR/csv.log")" -eq 4 ] || it_fail "csv: want exactly 4 report lines"
ct=content-type=application/json
cat >"$IT_DIR/csv.want" <<EOF
c-1	$ct	{"call_id":"c-1","caller":"+8613800138000","callee":"13900139000","start":"2026-11-23T10:00:00Z","duration_s":312,"carrier":"CMCC","status":"final","international":false}
c-4	$ct	{"call_id":"c-4","caller":"Zhang, San","callee":"13900139000","start":"2026-11-23T10:07:00Z","carrier":"CUCC","status":"ongoing","international":true}
c-5	$ct	{"call_id":"c-5","caller":"+86 138 0013 8000","callee":"multi\\nline","start":"2026-11-23T10:08:00Z","duration_s":7,"carrier":"CTCC","status":"final","international":false}
c-8	$ct	{"call_id":"c-8","caller":"+8613800138000","callee":"say \\"hi\\"","start":"2026-11-23T10:10:00Z","duration_s":-1,"carrier":"CMCC","status":"final","international":false}
EOF
messages "$IT_TOPIC_pub_csv" | cut -f2- >"$IT_DIR/csv.got"
same csv "$IT_DIR/csv.want" "$IT_DIR/csv.got"
gb_log "ok - csv: 4 rows published as JSON, 4 rejected with line and reason"

# ---- JSON lines ----------------------------------------------------------
{
  printf '%s\n' '{"call_id":"j-1","caller":"+8613800138000","duration_s":30}' \
    '' \
    '{"call_id":"j-2",  "note":"bytes kept as they are" }' \
    '{"call_id":"j-3","caller":' \
    '[1,2,3]' \
    '{"call_id":"j-4","caller":"中文 \u4e2d"}' \
    '"just a string"' \
    '{"caller":"no call_id"}'
  printf '%s\r\n' '{"call_id":"j-5"}'
  printf '%s' '{"call_id":"j-6","last":"no newline"}'
} >"$IT_DIR/visits.jsonl"
publish jsonl 0 -t "$IT_TOPIC_pub_jsonl" --key call_id --report "$IT_DIR/jsonl.report" \
  "$IT_DIR/visits.jsonl"
summary jsonl "lines=10 records=9 published=5 rejected=4 failed=0 messages=5"
has jsonl "gb-publish: rejected by reason: invalid_json=1 not_object=2 missing_key=1"
cat >"$IT_DIR/jsonl.report.want" <<'EOF'
line 4: invalid JSON at column 26: unexpected token near end of file
line 5: not a JSON object (an array)
line 7: not a JSON object (a string)
line 8: key field "call_id" missing
EOF
same jsonl-report "$IT_DIR/jsonl.report.want" "$IT_DIR/jsonl.report"
cat >"$IT_DIR/jsonl.want" <<EOF
j-1	$ct	{"call_id":"j-1","caller":"+8613800138000","duration_s":30}
j-2	$ct	{"call_id":"j-2",  "note":"bytes kept as they are" }
j-4	$ct	{"call_id":"j-4","caller":"中文 \\u4e2d"}
j-5	$ct	{"call_id":"j-5"}
j-6	$ct	{"call_id":"j-6","last":"no newline"}
EOF
messages "$IT_TOPIC_pub_jsonl" | cut -f2- >"$IT_DIR/jsonl.got"
same jsonl "$IT_DIR/jsonl.want" "$IT_DIR/jsonl.got"
gb_log "ok - jsonl: 5 lines published byte for byte, 4 rejected, blank line skipped"

# ---- --batch 3: three newline-separated records per message -------------
for i in 1 2 3 4 5 6 7; do printf '{"call_id":"b-%d","n":%d}\n' "$i" "$i"; done >"$IT_DIR/batch.jsonl"
publish batch 0 -t "$IT_TOPIC_pub_batch" --batch 3 --content-type application/x-ndjson \
  "$IT_DIR/batch.jsonl"
summary batch "lines=7 records=7 published=7 rejected=0 failed=0 messages=3"
messages "$IT_TOPIC_pub_batch" | cut -f2- | LC_ALL=C sort >"$IT_DIR/batch.got"
hb=content-type=application/x-ndjson
cat >"$IT_DIR/batch.want" <<EOF
-	$hb	{"call_id":"b-1","n":1}\n{"call_id":"b-2","n":2}\n{"call_id":"b-3","n":3}
-	$hb	{"call_id":"b-4","n":4}\n{"call_id":"b-5","n":5}\n{"call_id":"b-6","n":6}
-	$hb	{"call_id":"b-7","n":7}
EOF
same batch "$IT_DIR/batch.want" "$IT_DIR/batch.got"
gb_log "ok - batch: 7 records in messages of 3, 3 and 1"

# ---- --batch with --key: each record where its key sends it -------------
for i in $(seq 1 40); do printf '{"call_id":"k-%d","seq":%d}\n' $((i % 9)) "$i"; done >"$IT_DIR/keyed.jsonl"
publish keyed1 0 -t "$IT_TOPIC_pub_keyed1" --key call_id "$IT_DIR/keyed.jsonl"
publish keyed4 0 -t "$IT_TOPIC_pub_keyed4" --key call_id --batch 4 "$IT_DIR/keyed.jsonl"
messages "$IT_TOPIC_pub_keyed1" >"$IT_DIR/keyed1.got"
messages "$IT_TOPIC_pub_keyed4" >"$IT_DIR/keyed4.got"
"$GB_PYTHON" - "$IT_DIR/keyed1.got" "$IT_DIR/keyed4.got" "$IT_DIR/$IT_TOPIC_pub_keyed4.json" <<'EOF' ||
import json, sys
single = {}
for l in open(sys.argv[1]):
    part, key, _, payload = l.rstrip("\n").split("\t", 3)
    single[json.loads(payload)["seq"]] = (int(part), key)
assert len(single) == 40, "keyed1: %d records, want 40" % len(single)
seen, last = set(), {}
for l in open(sys.argv[3]):  # kcat order: each partition's messages by offset
    m = json.loads(l)
    assert m["key"] is None, "a batched message has a key"
    recs = [json.loads(r) for r in m["payload"].split("\n")]
    assert 1 <= len(recs) <= 4, "a message of %d records" % len(recs)
    for r in recs:
        want_part, want_key = single[r["seq"]]
        assert r["call_id"] == want_key
        assert m["partition"] == want_part, "seq %d on partition %d, its key sends it to %d" % (
            r["seq"], m["partition"], want_part)
        assert last.get(r["call_id"], 0) < r["seq"], "key %s out of file order" % r["call_id"]
        last[r["call_id"]] = r["seq"]
        seen.add(r["seq"])
assert seen == set(range(1, 41)), "records missing: %s" % sorted(set(range(1, 41)) - seen)
EOF
  it_fail "keyed batches: records not where their keys send them (see above)"
gb_log "ok - keyed batches: all 40 records on their key's partition, in file order per key"

# ---- --strict: a rejected line fails the run, the rest is still published
publish strict 1 -t "$IT_TOPIC_pub_strict" --key call_id --strict --quiet "$IT_DIR/visits.jsonl"
[ "$(grep -c '^line ' "$IT_DIR/strict.log")" -eq 4 ] || it_fail "strict: want 4 report lines"
! grep -q summary "$IT_DIR/strict.log" || it_fail "strict: --quiet printed a summary"
[ "$(messages "$IT_TOPIC_pub_strict" | wc -l)" -eq 5 ] || it_fail "strict: want 5 messages"
gb_log "ok - strict: exit 1 with 4 rejected lines, the 5 good ones published"

# ---- a delivery the broker refuses: exit 1, the lines named -------------
small=pub.small.$IT_SUFFIX
"$GB_BUILD_DIR/tools/gb-topics" -b "$IT_BOOTSTRAP" -p 1 -r 1 -c max.message.bytes=200 create "$small" \
  2>>"$IT_DIR/topics.log" || it_fail "could not create $small"
pad=$(printf 'x%.0s' $(seq 1 400))
printf '{"call_id":"big-%d","pad":"%s"}\n' 1 "$pad" 2 "$pad" >"$IT_DIR/big.jsonl"
publish refused 1 -t "$small" -X compression.type=none "$IT_DIR/big.jsonl"
has refused "line 1: delivery failed: Broker: Message size too large"
has refused "line 2: delivery failed: Broker: Message size too large"
grep -q ' published=0 rejected=0 failed=2 ' "$IT_DIR/refused.log" || it_fail "refused: want failed=2 in the summary"
gb_log "ok - refused delivery: exit 1, both lines reported"

# ---- usage errors: exit 2 with a clear message ---------------------------
expect_usage() { # NAME TEXT ARGS...
  local name=$1 text=$2
  shift 2
  publish "$name" 2 "$@"
  grep -qF -- "$text" "$IT_DIR/$name.log" || it_fail "$name: no '$text' in its output"
}
expect_usage nofile "cannot read $IT_DIR/nope.csv: No such file or directory" \
  -t "$IT_TOPIC_pub_csv" "$IT_DIR/nope.csv"
expect_usage notopic "topic no.such.topic.$IT_SUFFIX does not exist" \
  -t "no.such.topic.$IT_SUFFIX" "$IT_DIR/calls.csv"
expect_usage stdin "stdin needs --format csv|jsonl" -t "$IT_TOPIC_pub_csv" -
expect_usage badbatch "--batch 0: want 1-1000000" -t "$IT_TOPIC_pub_csv" --batch 0 "$IT_DIR/calls.csv"
expect_usage nokeycol '--key caller_id: the header has no column "caller_id"' \
  -t "$IT_TOPIC_pub_csv" --key caller_id "$IT_DIR/calls.csv"
gb_log "ok - usage errors: exit 2"

IT_OK=1
gb_log "PASS: CSV and JSON lines published exactly, bad lines reported, batches and keys right"
