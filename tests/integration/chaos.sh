#!/usr/bin/env bash
# Chaos (issue 8, promise 1): no alert lost, none doubled, under crashes.
#
# Two workers of each service (ingest, matcher, notifier; one consumer group
# each) run on the shared broker and this test's redis-server (append-only
# file on). Two stations, each with three officers' devices
# (chaos_device.py) spread over the notifier workers (each worker has its
# own HTTP port): a device reads its station's push stream from its own
# worker and, when the stream ends, reconnects with backoff to any live
# worker, resuming with Last-Event-ID after the last event it received.
#
# Steady traffic goes to gb.calls: every second, GB_CHAOS_RATE calls that
# must alert (the fraud number calls a protected person for 5 min; each
# call about a person of its own, so each is exactly one known alert, at
# the person's station) and GB_CHAOS_BACKGROUND times as many that must
# not (a clean number and a protected person, the fraud number and nobody
# protected, two clean numbers). Meanwhile a killer SIGKILLs a worker of a
# random service (of its workers, a random one of those killed least so
# far) and starts it again at once with the same options and a new log
# (<service>-<n>.r<k>.log), until every service has had GB_CHAOS_KILLS
# kills. The moments are random: every other kill of a service comes at a
# uniformly random time (at most GB_CHAOS_GAP_MS after the last), the
# others a random few milliseconds after a sign of work, when a crash
# leaves the most half done (see kill_worker). Halfway, redis-server is
# killed (SIGKILL) and started again on its append-only file.
#
# Then the traffic stops and, every wait bounded: every consumer group's
# lag returns to 0, and
#   - every expected alert exists exactly once in Redis: in its station's
#     listing (GET /v1/alerts?state=all), as one alert hash, with one
#     "alert" entry in the station's feed; and no other alert exists;
#   - every device received each of its station's expected alerts' first
#     push ("alert" event) exactly once by alert id, no alert.updated (each
#     incident had one call), and no other alert.
# The counts are printed: kills per service and how they were timed, calls
# published, what was read again after the kills, alerts expected / found
# / duplicated / unexpected, what each device received.
#
# The short form (the default, CI): 6 kills per service, about 80 s on
# the 2-core machine. The long form, 10 kills per service (about 120 s):
#
#   scripts/chaos.sh     (builds, then GB_CHAOS_KILLS=10 ctest -R integration.chaos in build/)
#
# Settings: GB_CHAOS_KILLS (6, kills per service), GB_CHAOS_RATE (3,
# alerting calls a second), GB_CHAOS_BACKGROUND (4, calls that must not
# alert per alerting call), GB_CHAOS_GAP_MS (3000, most time between two
# kills; at least 300), GB_CHAOS_NOTIFIERS (2, notifier workers; ingest and
# matcher always have 2).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# Byte order for sort, comm and join.
export LC_ALL=C

kills=${GB_CHAOS_KILLS:-6}
rate=${GB_CHAOS_RATE:-3}
bgper=${GB_CHAOS_BACKGROUND:-4}
gap_ms=${GB_CHAOS_GAP_MS:-3000}
nnotifiers=${GB_CHAOS_NOTIFIERS:-2}
[[ "$kills" =~ ^[1-9][0-9]*$ && "$rate" =~ ^[1-9][0-9]?$ && "$bgper" =~ ^[0-9]{1,3}$ &&
  "$gap_ms" =~ ^[0-9]+$ && "$nnotifiers" =~ ^[1-4]$ ]] ||
  gb_die "GB_CHAOS_KILLS, _RATE, _BACKGROUND, _GAP_MS or _NOTIFIERS out of range"
[ "$gap_ms" -ge 300 ] || gap_ms=300
services=(ingest matcher notifier)
declare -A nworkers=([ingest]=2 [matcher]=2 [notifier]=$nnotifiers)
stations=(st-1 st-2)
devices_per_station=3
fraud=+8617000000000
# Protected persons, one alerting call each at most: enough for the kills'
# time (each a few seconds) at the rate.
pool=$((rate * (kills * 3 * 4 + 40)))
t_test=$(gb_now_ms)

it_env chaos
it_station st-1 "思明派出所" 24.4539 118.0820
it_station st-2 "湖里派出所" 24.5122 118.1462
it_service_args

# ---- the workers ---------------------------------------------------------------------------

mapfile -t nport < <(gb_free_ports "$nnotifiers")
common_args=("${IT_ARGS[@]}")
declare -A wpid wlog restarts
# start_worker SERVICE N: worker N (1-based) of the service, with the
# options it always has; its log is SERVICE-N.log, then SERVICE-N.r<k>.log
# after its k-th kill.
start_worker() {
  local svc=$1 i=$2 name args=()
  name=$svc-$i
  [ "${restarts[$svc-$i]:-0}" = 0 ] || name=$svc-$i.r${restarts[$svc-$i]}
  case $svc in
    ingest) args=(--ingest.group="i$IT_SUFFIX" --admin.port=0) ;;
    matcher) args=(--log.level=debug --matcher.group="m$IT_SUFFIX" --index.hash-key-file="$IT_HASH_KEY_FILE"
      --index.keys-file="$IT_KEYS_FILE" --admin.port=0) ;;
    # (No escalation during the test: its pushes are not what it counts.)
    notifier) args=(--log.level=debug --notifier.group="n$IT_SUFFIX" --index.hash-key-file="$IT_HASH_KEY_FILE"
      --http.port="${nport[$((i - 1))]}" --notifier.escalate-after-s=3600) ;;
  esac
  it_start "$name" "$svc/$svc" "${common_args[@]}" "${args[@]}"
  wpid[$svc-$i]=${IT_PIDS[-1]}
  wlog[$svc-$i]=$IT_DIR/$name.log
}
_started() { grep -q "event=$1\.started " "$2" 2>/dev/null; }
wait_started() { # SERVICE N
  local log=${wlog[$1-$2]} pid=${wpid[$1-$2]}
  _up() {
    gb_pid_alive "$pid" || return 100
    _started "$1" "$log"
  }
  gb_wait_until 30 "$1-$2 to start" _up "$1" ||
    it_fail "$1-$2 did not start: $(tail -n 5 "$log")"
}
for s in "${services[@]}"; do
  for ((i = 1; i <= nworkers[$s]; i++)); do start_worker "$s" "$i"; done
done
_assigned() { grep -q "event=kafka.assigned topic=$2" "${wlog[$1]}" 2>/dev/null; }
for s in "${services[@]}"; do
  case $s in ingest) t=$IT_TOPIC_gb_calls ;; matcher) t=$IT_TOPIC_gb_events ;; notifier) t=$IT_TOPIC_gb_alerts ;; esac
  for ((i = 1; i <= nworkers[$s]; i++)); do
    wait_started "$s" "$i"
    gb_wait_until 60 "$s-$i's assignment" _assigned "$s-$i" "$t" || it_fail "$s-$i was assigned nothing"
  done
done
gb_log "workers up: $(for s in "${services[@]}"; do printf '%s x%d ' "$s" "${nworkers[$s]}"; done)(notifier ports ${nport[*]})"

# ---- the protected persons and the fraud number --------------------------------------------

kcat_p=(kcat -P -b "$IT_BOOTSTRAP" -K '|' -H content-type=application/json
  -X enable.idempotence=true -X acks=all)
# Person i (+86 139 001 xxxxx) is registered at st-1 when i is even, st-2
# when odd.
for ((i = 0; i < pool; i++)); do
  n=$((13900100000 + i))
  printf '%s|{"request_id":"r%d","op":"register","registrant":"%s","station_id":"%s"}\n' \
    "$n" "$i" "$n" "${stations[$((i % 2))]}"
done >"$IT_DIR/registry.in"
"${kcat_p[@]}" -t "$IT_TOPIC_gb_registry" -l "$IT_DIR/registry.in" 2>>"$IT_DIR/kcat.log" ||
  it_fail "kcat could not publish the registrations"
it_produce "$IT_TOPIC_gb_intel" "phone:$fraud" "{\"kind\":\"phone\",\"value\":\"$fraud\"}"
registered() {
  [ "$(cat "$IT_DIR"/matcher-*.log | grep -o 'registry.applied request_id=r[0-9]* .*accepted=yes' |
    awk '{ print $2 }' | sort -u | wc -l)" -ge "$pool" ]
}
t0=$(gb_now_ms)
gb_wait_until 90 "$pool registrations applied" registered || it_fail "registrations not applied"
# Every matcher worker's view holds them all and the fraud number (a
# registration applied by one worker reaches the other's view through
# gb.index).
metric() { # ADMIN NAME
  curl -sf -m 2 "http://$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}
admin_of() { sed -n "s/.*event=$1\.started .*admin=\([0-9.]*:[0-9]*\).*/\1/p" "$2" | tail -1; }
_view_full() {
  local a p f
  a=$(admin_of matcher "${wlog[matcher-$1]}")
  p=$(metric "$a" gb_matcher_view_protected) f=$(metric "$a" gb_matcher_view_indicators)
  [ "${p:-0}" -ge "$pool" ] && [ "${f:-0}" -ge 1 ]
}
for ((i = 1; i <= nworkers[matcher]; i++)); do
  gb_wait_until 30 "matcher-$i's view to hold every protected person" _view_full "$i" ||
    it_fail "matcher-$i's view is missing protected persons or the fraud number"
done
gb_log "$pool protected persons at 2 stations and the fraud number in $(($(gb_now_ms) - t0)) ms"

# ---- the devices ---------------------------------------------------------------------------

IT_HTTP=${nport[0]}
api_token=() devs=()
declare -A dev_station dev_pid
for si in "${!stations[@]}"; do
  st=${stations[$si]}
  for ((d = 0; d < devices_per_station; d++)); do
    name=dev-$st-$d
    it_token "o-$name" "$st"
    [ "$d" = 0 ] && api_token[$si]=$IT_TOKEN
    # Its own worker first, then the others in turn.
    home=$(((si + d) % nnotifiers)) ports=""
    for ((k = 0; k < nnotifiers; k++)); do ports+=${ports:+,}${nport[$(((home + k) % nnotifiers))]}; done
    (
      export GB_DEVICE_TOKEN=$IT_TOKEN
      gb_launch "$IT_DIR/$name.err" "$IT_DIR/$name.pid" "$GB_PYTHON" "$GB_ROOT/tests/integration/chaos_device.py" \
        --station "$st" --ports "$ports" --out "$IT_DIR/$name.out" --log "$IT_DIR/$name.conn"
    ) || it_fail "could not start $name"
    dev_pid[$name]=$(cat "$IT_DIR/$name.pid")
    IT_PIDS+=("${dev_pid[$name]}"); IT_NAMES+=("$name")
    dev_station[$name]=$st
    devs+=("$name")
  done
done
_connected() { grep -q '^[0-9.]* connected ' "$IT_DIR/$1.conn" 2>/dev/null; }
for name in "${devs[@]}"; do
  gb_wait_until 20 "$name on its push stream" _connected "$name" ||
    it_fail "$name did not connect: $(tail -n 3 "$IT_DIR/$name.conn" "$IT_DIR/$name.err" 2>/dev/null)"
done
gb_log "${#devs[@]} devices on their push streams: $(for n in "${devs[@]}"; do
  printf '%s@%s ' "$n" "$(sed -n 's/.* connected port=\([0-9]*\).*/\1/p' "$IT_DIR/$n.conn" | head -1)"; done)"

# ---- the traffic ---------------------------------------------------------------------------

# `rate` calls a second that must alert and `bgper` that must not per
# alerting one (it_traffic_start, lib.sh), until it_traffic_stop or the
# persons run out.
it_traffic_start "$rate" "$pool" "$fraud" "$bgper"
gen_pid=$IT_TRAFFIC_GEN kcat_pid=$IT_TRAFFIC_KCAT
hits_sent() { it_hits_sent; }
_sent_at_least() { [ "$(hits_sent)" -ge "$1" ]; }
gb_wait_until 20 "the traffic to flow" _sent_at_least $((2 * rate)) || it_fail "no traffic"

# ---- the chaos -----------------------------------------------------------------------------

# Every worker not being killed, every device and the traffic are alive:
# a worker that died by itself is a crash the test did not cause.
check_alive() {
  local w n
  for w in "${!wpid[@]}"; do
    gb_pid_alive "${wpid[$w]}" || it_fail "$w (pid ${wpid[$w]}) died by itself: $(tail -n 5 "${wlog[$w]}")"
  done
  for n in "${devs[@]}"; do
    gb_pid_alive "${dev_pid[$n]}" || it_fail "device $n died: $(tail -n 5 "$IT_DIR/$n.err" 2>/dev/null)"
  done
  # The traffic, until it is stopped.
  [ -e "$IT_DIR/traffic.stop" ] && return 0
  gb_pid_alive "$kcat_pid" || it_fail "the traffic's kcat died: $(tail -n 5 "$IT_DIR/traffic-kcat.log")"
  [ "$(hits_sent)" -ge "$pool" ] || gb_pid_alive "$gen_pid" ||
    it_fail "the traffic generator stopped early: $(tail -n 5 "$IT_DIR/traffic.err")"
}
# The stimulus: a random moment between 300 ms and gap_ms from now (the
# services checked meanwhile). Not a synchronisation: nothing waits on it.
random_pause() {
  local until=$(($(gb_now_ms) + 300 + (RANDOM * 32768 + RANDOM) % (gap_ms - 299)))
  while [ "$(gb_now_ms)" -lt "$until" ]; do
    check_alive
    sleep 0.1
  done
}
# kill_after LOG REGEX PID MAX_MS TIMEOUT_S: SIGKILLs PID a random 0..MAX_MS
# ms after LOG's next line matching REGEX (or at once, after TIMEOUT_S
# without one); prints "work" or "idle".
kill_after_py='
import os, random, re, signal, sys, time
log, pat, pid = sys.argv[1], re.compile(sys.argv[2].encode()), int(sys.argv[3])
max_ms, end = int(sys.argv[4]), time.monotonic() + float(sys.argv[5])
f = open(log, "rb")
f.seek(0, 2)
buf, hit = b"", False
while not hit and time.monotonic() < end:
    chunk = f.read()
    if not chunk:
        time.sleep(0.0005)
        continue
    lines = (buf + chunk).split(b"\n")
    buf = lines.pop()
    hit = any(pat.search(l) for l in lines)
if hit:
    time.sleep(random.uniform(0, max_ms / 1000))
os.kill(pid, signal.SIGKILL)
print("work" if hit else "idle")
'
# The moment: every other kill of a service at a uniformly random moment
# (random_pause), the others a random few ms after a sign of work, where a
# crash leaves the most undone: ingest 0-60 ms after the traffic's next
# alerting call, matcher 0-10 ms after it emits its next alert (the
# incident is in Redis, the alert maybe not delivered, nothing committed),
# notifier 0-5 ms after it pushes its next alert (stored, its offset not
# yet committed).
kill_worker() { # SERVICE N
  local w=$1-$2 pid=${wpid[$1-$2]} how=random
  if [ $((killed[$1] % 2)) = 1 ]; then
    case $1 in
      ingest) how=$("$GB_PYTHON" -c "$kill_after_py" "$IT_DIR/hits.log" . "$pid" 60 $((gap_ms / 1000 + 1))) ;;
      matcher) how=$("$GB_PYTHON" -c "$kill_after_py" "${wlog[$w]}" 'event=alert\.emitted ' "$pid" 10 $((gap_ms / 1000 + 1))) ;;
      notifier) how=$("$GB_PYTHON" -c "$kill_after_py" "${wlog[$w]}" 'event=alert\.pushed ' "$pid" 5 $((gap_ms / 1000 + 1))) ;;
    esac || it_fail "could not kill $w (pid $pid)"
  else
    kill -KILL "$pid" 2>/dev/null || it_fail "could not kill $w (pid $pid)"
  fi
  gb_wait_until 10 "$w (pid $pid) to die" _gb_pid_gone "$pid" || it_fail "$w survived SIGKILL"
  it_forget_pid "$pid"
  echo "$(gb_now_ms) $w $pid $how" >>"$IT_DIR/kills.log"
  kill_how=$how
  restarts[$w]=$((${restarts[$w]:-0} + 1))
  start_worker "$1" "$2"
  wait_started "$1" "$2"
}
restart_redis() {
  local pid aof
  aof=$(redis-cli -p "$IT_REDIS_PORT" CONFIG GET appendonly | tail -1)
  [ "$aof" = yes ] || it_fail "redis-server's append-only file is off ($aof)"
  pid=$(cat "$IT_REDIS_DIR/pid")
  gb_pid_alive "$pid" redis-server || it_fail "no redis-server pid"
  kill -KILL "$pid"
  gb_wait_until 10 "redis-server to die" _gb_pid_gone "$pid" redis-server || it_fail "redis-server survived SIGKILL"
  echo "$(gb_now_ms) redis $pid" >>"$IT_DIR/kills.log"
  "$GB_ROOT/scripts/redis-start.sh" --dir "$IT_REDIS_DIR" >/dev/null 2>>"$IT_DIR/redis-restart.log" ||
    it_fail "redis-server did not start again on its append-only file"
  redis_restarts=$((redis_restarts + 1))
}

declare -A left killed
for s in "${services[@]}"; do left[$s]=$kills killed[$s]=0; done
total_kills=$((kills * ${#services[@]}))
redis_restarts=0 n=0
t_chaos=$(gb_now_ms)
while [ "$n" -lt "$total_kills" ]; do
  random_pause
  # A random service among those with kills left.
  cand=()
  for s in "${services[@]}"; do [ "${left[$s]}" -gt 0 ] && cand+=("$s"); done
  s=${cand[$((RANDOM % ${#cand[@]}))]}
  # A random one of its workers killed least so far: each is killed, in
  # no fixed order.
  least=1000000 wcand=()
  for ((i = 1; i <= nworkers[$s]; i++)); do
    r=${restarts[$s-$i]:-0}
    [ "$r" -lt "$least" ] && least=$r wcand=()
    [ "$r" = "$least" ] && wcand+=("$i")
  done
  i=${wcand[$((RANDOM % ${#wcand[@]}))]}
  kill_worker "$s" "$i"
  left[$s]=$((left[$s] - 1)) killed[$s]=$((killed[$s] + 1)) n=$((n + 1))
  gb_log "kill $n/$total_kills: $s-$i, $kill_how (sent so far: $(hits_sent) alerting calls)"
  if [ "$n" = $((total_kills / 2)) ]; then
    random_pause
    restart_redis
    gb_log "redis-server killed and started again on its append-only file (sent so far: $(hits_sent) alerting calls)"
  fi
done
t_chaos_end=$(gb_now_ms)
check_alive

# ---- the traffic ends; everything drains ---------------------------------------------------

t_stop=$(gb_now_ms)
it_traffic_stop
hits=$IT_HITS background=$IT_BACKGROUND
sent=$((hits + background))

IT_LAG_CHECK=check_alive it_wait_lag_zero 150
t_lag0=$(gb_now_ms)
gb_log "every consumer group's lag 0 $((t_lag0 - t_stop)) ms after the traffic stopped"

# ---- what Redis holds ----------------------------------------------------------------------

# expected.tsv: SUBJECT STATION, one a line, for every alerting call sent.
awk '{ i = $1; print $2 "\t" (i % 2 ? "st-2" : "st-1") }' "$IT_DIR/hits.log" | sort >"$IT_DIR/expected.tsv"
api() { # STATION_INDEX PATH: a GET with an officer's token of that station
  curl -sf -m 10 -H "Authorization: Bearer ${api_token[$1]}" "http://127.0.0.1:$2"
}
# listed.tsv: ALERT_ID SUBJECT STATION, for every alert the stations list.
list_alerts() {
  local si st page before port
  : >"$IT_DIR/listed.tsv"
  for si in "${!stations[@]}"; do
    st=${stations[$si]} before=""
    while :; do
      # Any live worker answers.
      page=""
      for port in "${nport[@]}"; do
        page=$(api "$si" "$port/v1/alerts?state=all&limit=500${before:+&before=$before}") && break
      done
      [ -n "$page" ] || return 1
      jq -r --arg st "$st" '.alerts[] | [.alert_id, .subject, .station_id, $st] | @tsv' <<<"$page" >>"$IT_DIR/listed.tsv"
      before=$(jq -r '.next_before // empty' <<<"$page")
      [ -n "$before" ] || break
    done
  done
}
# The feed: "EVENT<TAB>ALERT_ID<TAB>SUBJECT" for every entry of each station's feed.
feed_entries() {
  local st
  for st in "${stations[@]}"; do
    redis-cli -p "$IT_REDIS_PORT" --raw XRANGE "${IT_PREFIX}feed:{st:$st}" - + |
      awk 'prev == "event" { ev = $0 } prev == "json" { print ev "\t" $0 } { prev = $0 }' >"$IT_DIR/feed-$st.raw"
    cut -f2 "$IT_DIR/feed-$st.raw" | it_unseal notifier.feed >"$IT_DIR/feed-$st.json" ||
      it_fail "the feed of $st did not open"
    paste <(cut -f1 "$IT_DIR/feed-$st.raw") \
      <(jq -r '[(.alert_id // "-"), (.subject // "-")] | @tsv' "$IT_DIR/feed-$st.json") |
      awk -v st="$st" '{ print $0 "\t" st }'
  done
}
_listed_all() {
  list_alerts || return 1
  [ "$(cut -f2 "$IT_DIR/listed.tsv" | sort -u | comm -12 - <(cut -f1 "$IT_DIR/expected.tsv") | wc -l)" -ge "$hits" ]
}
GB_WAIT_INTERVAL=1 gb_wait_until 30 "every expected alert in the stations' listings" _listed_all ||
  gb_log "not every expected alert is listed after 30 s (counted below)"
list_alerts || it_fail "the alert listing did not answer"
feed_entries >"$IT_DIR/feed.tsv"
# Alert hashes, per station.
for st in "${stations[@]}"; do
  redis-cli -p "$IT_REDIS_PORT" --scan --pattern "${IT_PREFIX}al:{st:$st}:*" | sed "s/^.*://" |
    awk -v st="$st" '{ print $0 "\t" st }'
done | sort >"$IT_DIR/hashes.tsv"

# found: expected subjects with an alert listed at their station;
# duplicated: alerts beyond one per expected subject, hashes or feed
# "alert" entries beyond one per alert; unexpected: listed alerts of
# anyone else (or at the wrong station), hashes not listed.
found=$(awk -F'\t' 'NR == FNR { want[$1 "\t" $2] = 1; next } want[$2 "\t" $4] { print $2 }' \
  "$IT_DIR/expected.tsv" "$IT_DIR/listed.tsv" | sort -u | wc -l)
dup_subject=$(awk -F'\t' '{ n[$2]++ } END { for (s in n) if (n[s] > 1) d += n[s] - 1; print d + 0 }' "$IT_DIR/listed.tsv")
dup_feed=$(awk -F'\t' '$1 == "alert" { n[$2]++ } END { for (a in n) if (n[a] > 1) d += n[a] - 1; print d + 0 }' "$IT_DIR/feed.tsv")
feed_updates=$(awk -F'\t' '$1 == "alert.updated"' "$IT_DIR/feed.tsv" | wc -l)
unexpected_listed=$(awk -F'\t' 'NR == FNR { want[$1 "\t" $2] = 1; next } !want[$2 "\t" $4] { print }' \
  "$IT_DIR/expected.tsv" "$IT_DIR/listed.tsv")
unexpected_hashes=$(awk -F'\t' 'NR == FNR { l[$1 "\t" $4] = 1; next } !l[$1 "\t" $2] { print }' \
  "$IT_DIR/listed.tsv" "$IT_DIR/hashes.tsv")
unexpected_feed=$(awk -F'\t' 'NR == FNR { l[$1] = 1; next } ($1 == "alert" || $1 == "alert.updated") && !l[$2] { print }' \
  "$IT_DIR/listed.tsv" "$IT_DIR/feed.tsv")
missing_feed=$(awk -F'\t' 'NR == FNR { if ($1 == "alert") f[$2] = 1; next } !f[$1] { print $1, $2 }' \
  "$IT_DIR/feed.tsv" "$IT_DIR/listed.tsv")
unexpected=$(( $(grep -c . <<<"$unexpected_listed" || true) + $(grep -c . <<<"$unexpected_hashes" || true) +
  $(grep -c . <<<"$unexpected_feed" || true) ))
missing=$(comm -23 <(cut -f1 "$IT_DIR/expected.tsv") <(cut -f2 "$IT_DIR/listed.tsv" | sort -u))
n_missing=$(grep -c . <<<"$missing" || true)
duplicated=$((dup_subject + dup_feed))

# ---- what the devices received -------------------------------------------------------------

# want-<station>.ids: the alert ids each of its devices must receive.
for st in "${stations[@]}"; do
  awk -F'\t' -v st="$st" 'NR == FNR { want[$1 "\t" $2] = 1; next } $4 == st && want[$2 "\t" $4] { print $1 }' \
    "$IT_DIR/expected.tsv" "$IT_DIR/listed.tsv" | sort -u >"$IT_DIR/want-$st.ids"
done
dev_missing() { # DEVICE: expected alert ids it has no "alert" event for
  awk -F'\t' '$2 == "alert" { print $3 }' "$IT_DIR/$1.out" 2>/dev/null | sort -u |
    comm -23 "$IT_DIR/want-${dev_station[$1]}.ids" -
}
_devices_complete() {
  local name
  check_alive
  for name in "${devs[@]}"; do
    [ -z "$(dev_missing "$name")" ] || return 1
  done
}
GB_WAIT_INTERVAL=0.5 gb_wait_until 60 "every device to have every expected alert of its station" _devices_complete ||
  gb_log "not every device has every expected alert after 60 s (counted below)"
dev_bad=0
report=()
for name in "${devs[@]}"; do
  f=$IT_DIR/$name.out
  st=${dev_station[$name]}
  events=$(grep -c . "$f" 2>/dev/null || true)
  alerts=$(awk -F'\t' '$2 == "alert"' "$f" 2>/dev/null | wc -l)
  distinct=$(awk -F'\t' '$2 == "alert" { print $3 }' "$f" 2>/dev/null | sort -u | wc -l)
  got=$(awk -F'\t' '$2 == "alert" { print $3 }' "$f" 2>/dev/null | sort -u | comm -12 "$IT_DIR/want-$st.ids" - | wc -l)
  dups=$(awk -F'\t' '$2 == "alert" { n[$3]++ } END { for (a in n) if (n[a] > 1) d += n[a] - 1; print d + 0 }' "$f" 2>/dev/null)
  updates=$(awk -F'\t' '$2 == "alert.updated"' "$f" 2>/dev/null | wc -l)
  other=$(awk -F'\t' '$2 == "alert" { print $3 }' "$f" 2>/dev/null | sort -u | comm -13 "$IT_DIR/want-$st.ids" - | wc -l)
  lost=$(dev_missing "$name" | wc -l)
  conns=$(grep -c ' connected ' "$IT_DIR/$name.conn" || true)
  report+=("$name: $alerts alert events, $distinct distinct, $got of $(wc -l <"$IT_DIR/want-$st.ids") expected, missing $lost, duplicates $dups, updates $updates, unexpected $other, $events events in all, $conns connections")
  [ "$lost" = 0 ] && [ "$dups" = 0 ] && [ "$updates" = 0 ] && [ "$other" = 0 ] || dev_bad=$((dev_bad + 1))
done

# ---- the figures ---------------------------------------------------------------------------

in_calls=$(it_count "$IT_TOPIC_gb_calls")
dead=$(it_count "$IT_TOPIC_gb_dlq")
on_alerts=$(it_count "$IT_TOPIC_gb_alerts")
count_all() { cat "$IT_DIR"/"$1"-*.log 2>/dev/null | grep -cE "$2" || true; }
gb_log "kills (SIGKILL, then a restart): ingest ${killed[ingest]}, matcher ${killed[matcher]}, notifier ${killed[notifier]}; redis-server restarts $redis_restarts; chaos $(((t_chaos_end - t_chaos) / 1000)) s"
gb_log "calls published $sent ($hits must alert, $background must not; $in_calls on the input topic); $on_alerts messages on gb.alerts; $dead dead letters"
gb_log "kill moments: $(awk '$2 != "redis" { split($2, w, "-"); n[w[1] " " $4]++ } END { for (k in n) printf "%s %d, ", k, n[k] }' "$IT_DIR/kills.log" | sed 's/, $//')"
repeats=$(cat "$IT_DIR"/matcher-*.log | sed -n 's/.*event=event.dropped \(event_id=[^ ]*\).*/\1/p' | sort | uniq -d | wc -l)
gb_log "re-read after kills: $repeats events matcher dropped twice or more, $(count_all matcher 'event=alert.emitted .*resent=yes') alerts matcher emitted again (resent), $(count_all notifier 'event=alert.duplicate ') alerts notifier found stored already, $(count_all notifier 'event=alert.pushed .*recovered=yes') of them pushed as recovered"
gb_log "matcher: $(count_all matcher 'event=alert.emitted ') alert.emitted lines; notifier: $(count_all notifier 'event=alert.pushed .*event=alert ') alert.pushed (first pushes)"
gb_log "alerts expected $hits, found $found, duplicated $duplicated (per subject $dup_subject, feed entries $dup_feed), unexpected $unexpected, missing $n_missing; $(wc -l <"$IT_DIR/listed.tsv") listed, $(wc -l <"$IT_DIR/hashes.tsv") alert hashes, $(awk -F'\t' '$1 == "alert"' "$IT_DIR/feed.tsv" | wc -l) feed alert entries, $feed_updates feed updates"
for line in "${report[@]}"; do gb_log "device $line"; done

# ---- the verdict ---------------------------------------------------------------------------

[ "$in_calls" = "$sent" ] || it_fail "sent $sent calls, $IT_TOPIC_gb_calls holds $in_calls"
[ -z "$missing" ] || it_fail "$n_missing expected alerts do not exist: $(head -10 <<<"$missing" | tr '\n' ' ')"
[ "$found" = "$hits" ] || it_fail "found $found of $hits expected alerts"
[ "$dup_subject" = 0 ] || it_fail "people with more than one alert: $(cut -f2 "$IT_DIR/listed.tsv" | sort | uniq -d | head -5 | tr '\n' ' ')"
[ "$dup_feed" = 0 ] || it_fail "alerts entered in a feed more than once: $(awk -F'\t' '$1 == "alert" { print $2 }' "$IT_DIR/feed.tsv" | sort | uniq -d | head -5 | tr '\n' ' ')"
[ "$feed_updates" = 0 ] || it_fail "$feed_updates alert.updated entries in the feeds (each incident had one call)"
[ -z "$unexpected_listed" ] || it_fail "unexpected alerts listed: $(head -5 <<<"$unexpected_listed" | tr '\n' ' ')"
[ -z "$unexpected_hashes" ] || it_fail "alert hashes not listed: $(head -5 <<<"$unexpected_hashes" | tr '\n' ' ')"
[ -z "$unexpected_feed" ] || it_fail "feed entries of unlisted alerts: $(head -5 <<<"$unexpected_feed" | tr '\n' ' ')"
[ -z "$missing_feed" ] || it_fail "listed alerts with no feed entry: $(head -5 <<<"$missing_feed" | tr '\n' ' ')"
[ "$dead" = 0 ] || it_fail "$dead dead letters"
if [ "$dev_bad" != 0 ]; then
  for name in "${devs[@]}"; do
    m=$(dev_missing "$name")
    [ -z "$m" ] || gb_log "$name is missing: $(head -5 <<<"$m" | tr '\n' ' ')"
  done
  it_fail "$dev_bad of ${#devs[@]} devices did not receive every expected alert exactly once"
fi
for s in "${services[@]}"; do
  [ "${killed[$s]}" -ge "$kills" ] || it_fail "$s was killed ${killed[$s]} times, not $kills"
done
[ "$redis_restarts" = 1 ] || it_fail "redis-server was restarted $redis_restarts times"
check_alive

IT_OK=1
gb_log "PASS: kills ingest ${killed[ingest]}, matcher ${killed[matcher]}, notifier ${killed[notifier]}, redis-server 1; calls $sent; alerts expected $hits, found $found, duplicated 0, unexpected 0; ${#devs[@]} devices each received every one of its station's alerts exactly once; test $((($(gb_now_ms) - t_test) / 1000)) s"
