#!/usr/bin/env bash
# Two notifier workers share gb.alerts. A station's alerts travel on one
# partition, so one worker stores them all; the station's devices are
# connected to both. Every device gets each alert, and each workflow
# change, exactly once, whichever worker it is connected to; so does a
# bureau administrator's "*" stream. A device that moves to the other
# worker resumes with Last-Event-ID and gets exactly what it missed. The
# worker that stores the alerts is then killed with SIGKILL: its devices
# reconnect to the survivor, which takes its partitions, and nothing is
# lost or doubled.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_env push_workers
it_station st-1 "思明派出所" 24.4539 118.0820
it_stack
A=$IT_HTTP B=$(gb_free_port)
it_start notifier2 notifier/notifier "${IT_ARGS[@]}" --notifier.group="n$IT_SUFFIX" \
  --index.hash-key-file="$IT_HASH_KEY_FILE" --http.port="$B"
it_wait_log notifier2 "kafka.assigned topic=$IT_TOPIC_gb_alerts" 60 "the second worker's assignment"

F=+8617000000000
for n in 61 62 63 64 65; do
  it_produce "$IT_TOPIC_gb_registry" 139000000$n "{\"request_id\":\"r$n\",\"op\":\"register\",\"registrant\":\"139000000$n\",\"station_id\":\"st-1\"}"
  it_wait_log matcher "registry.applied request_id=r$n op=register accepted=yes" 30 "registration r$n"
done
it_produce "$IT_TOPIC_gb_intel" phone:$F "{\"kind\":\"phone\",\"value\":\"$F\"}"
it_wait_log matcher 'intel.applied kind=phone' 30 "fraud number"

# connect NAME PORT LOG STATION [LAST_ID]: a device's push stream on the
# worker at PORT (whose log is LOG), with the token in IT_TOKEN.
connect() {
  local opened
  opened=$(grep -cF "stream.opened station=$4 " "$IT_DIR/$3.log" || true)
  gb_launch "$IT_DIR/$1.out" "$IT_DIR/$1.pid" \
    curl -sSN --no-buffer -H "Authorization: Bearer $IT_TOKEN" ${5:+-H "Last-Event-ID: $5"} \
    "http://127.0.0.1:$2/v1/stream?station=$4"
  IT_PIDS+=("$(cat "$IT_DIR/$1.pid")"); IT_NAMES+=("$1")
  more() { [ "$(grep -cF "stream.opened station=$2 " "$IT_DIR/$1.log" || true)" -gt "$3" ]; }
  gb_wait_until 20 "$1's stream on $3" more "$3" "$4" "$opened" || it_fail "$1 did not connect to $3"
}
IT_HTTP=$A it_token o-a st-1; TOK_A=$IT_TOKEN
IT_HTTP=$B it_token o-b st-1; TOK_B=$IT_TOKEN
IT_HTTP=$B it_token boss "" bureau_admin; TOK_BOSS=$IT_TOKEN
IT_TOKEN=$TOK_A connect devA "$A" notifier st-1
IT_TOKEN=$TOK_B connect devB "$B" notifier2 st-1
IT_TOKEN=$TOK_BOSS connect boss "$B" notifier2 '*'

# first_pushes DEVICE...: the subjects of every "alert" event the devices'
# connections got, one a line, sorted (a subject twice is an alert twice).
first_pushes() {
  local d
  for d in "$@"; do it_sse_events "$d" alert; done | jq -r .subject | sort
}
# got_all N DEVICE...: the devices got N first pushes between them.
got_all() {
  local n=$1
  shift
  [ "$(first_pushes "$@" | wc -l)" -ge "$n" ]
}
expect() {
  local want=$1 got
  shift
  got=$(first_pushes "$@" | tr '\n' ' ')
  [ "$got" = "$want" ] || it_fail "$* got the alerts of: '$got' (want '$want')"
}

it_call w-61 $F 13900000061 300
it_call w-62 $F 13900000062 300
for d in devA devB boss; do gb_wait_until 60 "2 alerts on $d" got_all 2 "$d" || it_fail "$d: $(first_pushes "$d")"; done
expect "+8613900000061 +8613900000062 " devA
expect "+8613900000061 +8613900000062 " devB
expect "+8613900000061 +8613900000062 " boss
# The worker that stored them (it has st-1's partition).
if grep -q "event=alert.pushed .*station=st-1 " "$IT_DIR/notifier.log"; then
  owner=notifier owner_port=$A other=notifier2 other_port=$B
else
  owner=notifier2 owner_port=$B other=notifier other_port=$A
fi
gb_log "st-1's alerts are stored by $owner"
# devC joins on that worker now: it resumes nothing, so it gets what comes.
IT_HTTP=$A it_token o-c st-1; TOK_C=$IT_TOKEN
IT_TOKEN=$TOK_C connect devC "$owner_port" "$owner" st-1

# A claim made on one worker reaches the devices on both, once.
id61=$(it_sse_events devA alert | jq -r 'select(.subject == "+8613900000061") | .alert_id')
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOK_B" \
  "http://127.0.0.1:$B/v1/alerts/$id61/claim")
[ "$code" = 200 ] || it_fail "the claim answered $code"
claimed() { [ "$(it_sse_events "$1" alert.workflow | jq -r "select(.alert_id == \"$id61\") | .state" | grep -c claimed)" -ge 1 ]; }
for d in devA devB; do gb_wait_until 20 "the claim on $d" claimed "$d" || it_fail "$d did not see the claim"; done

# devA moves to the other worker: it misses 63 meanwhile, then resumes.
lastA=$(sed -n 's/^id: //p' "$IT_DIR/devA.out" | tail -1)
gb_pid_stop "$(cat "$IT_DIR/devA.pid")" 5 devA >/dev/null || it_fail "could not stop devA"
it_call w-63 $F 13900000063 300
gb_wait_until 60 "63 on devB" got_all 3 devB || it_fail "devB: $(first_pushes devB)"
IT_TOKEN=$TOK_A connect devA2 "$B" notifier2 st-1 "$lastA"
gb_wait_until 20 "63 on devA2" got_all 3 devA devA2 || it_fail "devA2: $(first_pushes devA2)"
expect "+8613900000063 " devA2
gb_wait_until 20 "63 on devC" got_all 1 devC || it_fail "devC got nothing"

# The storing worker dies. Devices on it reconnect to the survivor from
# the last id they saw; the survivor takes st-1's partition.
kill -KILL "$(cat "$IT_DIR/$owner.pid")"
gone() { ! gb_pid_alive "$(cat "$IT_DIR/$owner.pid")" notifier; }
gb_wait_until 10 "$owner gone" gone || it_fail "$owner did not die"
moved=()
for d in devA2 devB boss devC; do
  # curl exits when its worker dies; the others stay.
  if ! gb_pid_alive "$(cat "$IT_DIR/$d.pid")" curl; then moved+=("$d"); fi
done
for d in "${moved[@]}"; do
  last=$(sed -n 's/^id: //p' "$IT_DIR/$d.out" | tail -1)
  case $d in
    devA2) tok=$TOK_A st=st-1 ;; devB) tok=$TOK_B st=st-1 ;; devC) tok=$TOK_C st=st-1 ;;
    boss) tok=$TOK_BOSS st='*' last= ;;
  esac
  IT_TOKEN=$tok connect "$d-again" "$other_port" "$other" "$st" "$last"
done
gb_log "killed $owner; moved to $other: ${moved[*]:-none}"
it_call w-64 $F 13900000064 300
it_call w-65 $F 13900000065 300
devA_all=(devA devA2) devB_all=(devB) devC_all=(devC) boss_all=(boss)
for d in "${moved[@]}"; do
  case $d in
    devA2) devA_all+=(devA2-again) ;; devB) devB_all+=(devB-again) ;; devC) devC_all+=(devC-again) ;;
    boss) boss_all+=(boss-again) ;;
  esac
done
[[ " ${moved[*]} " == *" devC "* ]] || it_fail "devC, on $owner, did not lose its stream when $owner died"
gb_wait_until 90 "64 and 65 on devA" got_all 5 "${devA_all[@]}" || it_fail "devA: $(first_pushes "${devA_all[@]}" | tr '\n' ' ')"
gb_wait_until 30 "64 and 65 on devB" got_all 5 "${devB_all[@]}" || it_fail "devB: $(first_pushes "${devB_all[@]}" | tr '\n' ' ')"
all5="+8613900000061 +8613900000062 +8613900000063 +8613900000064 +8613900000065 "
expect "$all5" "${devA_all[@]}"
expect "$all5" "${devB_all[@]}"
gb_wait_until 30 "64 and 65 on devC" got_all 3 "${devC_all[@]}" || it_fail "devC: $(first_pushes "${devC_all[@]}" | tr '\n' ' ')"
expect "+8613900000063 +8613900000064 +8613900000065 " "${devC_all[@]}"
# A "*" stream has no ids to resume from: it gets what comes after it
# connects (64 and 65 at least, each once).
gb_wait_until 30 "64 and 65 on the bureau's stream" got_all 4 "${boss_all[@]}" || it_fail "boss: $(first_pushes "${boss_all[@]}" | tr '\n' ' ')"
for s in 64 65; do
  [ "$(first_pushes "${boss_all[@]}" | grep -c "^+86139000000$s$")" = 1 ] || it_fail "the bureau's stream got $s other than once"
done

IT_OK=1
gb_log "PASS: devices on both workers got each of 5 alerts once; the claim reached both; a device that moved resumed with exactly the missed alert; after SIGKILL of $owner, ${#moved[@]} streams moved and nothing was lost or doubled"
