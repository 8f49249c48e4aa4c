#!/usr/bin/env bash
# The issue's check: "a reconciliation command recomputes [the statistics]
# from the index and reports any drift; a test shows zero drift after a
# random mix of 10,000 changes". 10,000 changes of every kind over 600
# registrants at three units (one a publicity unit), with a fixed seed,
# published with gb-publish keyed by registrant and applied by matcher;
# then `gb-registry reconcile` must find no drift, and the live figures
# must equal those of a model of the registry kept by the generator.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_init registry_drift
it_topics gb.registry gb.registry.results gb.intel gb.index gb.events gb.alerts gb.dlq
it_redis
it_hash_key
IT_PREFIX="t$IT_SUFFIX:"
it_station st-a "思明派出所" 24.4539 118.0820
it_station st-b "湖里派出所" 24.5122 118.1462
it_station st-pub "终结诈骗防诈宣传中心" 24.48 118.10 --publicity
it_start matcher matcher/matcher --log.level=info --redis.url="$IT_REDIS_URL" --redis.prefix="$IT_PREFIX" \
  --topic.registry="$IT_TOPIC_gb_registry" --topic.registry-results="$IT_TOPIC_gb_registry_results" \
  --topic.intel="$IT_TOPIC_gb_intel" --topic.index="$IT_TOPIC_gb_index" --topic.events="$IT_TOPIC_gb_events" \
  --topic.alerts="$IT_TOPIC_gb_alerts" --topic.dlq="$IT_TOPIC_gb_dlq" \
  --kafka.bootstrap.servers="$IT_BOOTSTRAP" --kafka.session.timeout.ms=6000 \
  --matcher.group="m$IT_SUFFIX" --index.hash-key-file="$IT_HASH_KEY_FILE" --index.keys-file="$IT_KEYS_FILE" \
  --admin.port=0
it_wait_log matcher "kafka.assigned topic=$IT_TOPIC_gb_registry" 60 "matcher assignment"

# ---- 10,000 changes, and what they should leave behind ----
total=10000
cat >"$IT_DIR/gen.py" <<'EOF'
# gen.py OUT EXPECTED N: N random registry changes (JSON lines) and the
# figures they must leave, from a model of the engine's rules
# (docs/API.md, "gb.registry").
import json, random, sys

out, expected, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(20261123)
REAL = {"st-a": True, "st-b": True, "st-pub": False}
STATIONS = list(REAL) + ["st-x"]            # st-x does not exist
people = ["139%08d" % (10000 + i) for i in range(600)]
pool = ["137%08d" % (20000 + i) for i in range(250)]  # family numbers, shared
state = {}  # number -> {"station", "following", "family": {number: relation}}
accepted = 0
ops = {}
cases = {"over_limit": 0, "moved_by_register": 0, "back_after_unregister": 0, "shared_family": 0}
gone = set()  # unregistered once

def pick_station():
    return rnd.choices(STATIONS, weights=[45, 40, 12, 3])[0]

def family_number(me):
    r = rnd.random()
    if r < 0.02:
        return "110"                        # a service number: refused
    if r < 0.04:
        return me                           # one's own number: refused
    if r < 0.15:
        return rnd.choice(people)           # another registrant (or oneself)
    return rnd.choice(pool)

with open(out, "w") as f:
    for i in range(n):
        me = rnd.choice(people)
        s = state.get(me)
        if s is None:
            op = rnd.choices(["register", "add_family", "follow", "unregister"], weights=[90, 5, 3, 2])[0]
        else:
            op = rnd.choices(["register", "update_profile", "add_family", "remove_family",
                              "change_station", "follow", "unfollow", "unregister"],
                             weights=[5, 8, 34, 12, 10, 9, 9, 6])[0]
        c = {"request_id": "d%d" % i, "op": op, "registrant": me}
        ok = s is not None
        if op == "register":
            st = pick_station()
            c.update(station_id=st, following=rnd.random() < 0.75, name="居民%d" % i,
                     age=rnd.randint(18, 95), occupation=rnd.choice(["退休", "教师", "学生"]))
            ok = st != "st-x"
            if ok:
                if s is None:
                    cases["back_after_unregister"] += me in gone
                    s = state[me] = {"family": {}}
                elif s["station"] != st:
                    cases["moved_by_register"] += 1
                s["station"], s["following"] = st, c["following"]
        elif op == "update_profile":
            c.update(name="居民%d" % i, age=rnd.randint(18, 95), occupation="工人")
        elif op == "add_family":
            # Mostly numbers of the pool; registrants past 8 keep trying.
            fam = family_number(me)
            c.update(family=fam, relation=rnd.choice(["母亲", "父亲", "儿子", "女儿"]))
            if fam == "110" or fam == me:
                ok = False
            elif ok and fam not in s["family"] and len(s["family"]) >= 8:
                ok = False
                cases["over_limit"] += 1
            elif ok:
                s["family"][fam] = c["relation"]
        elif op == "remove_family":
            fams = list(s["family"]) if s else []
            fam = rnd.choice(fams) if fams and rnd.random() < 0.85 else rnd.choice(pool)
            c.update(family=fam)
            if ok:
                s["family"].pop(fam, None)
        elif op == "change_station":
            st = pick_station()
            c.update(station_id=st)
            ok = ok and st != "st-x"
            if ok:
                s["station"] = st
        elif op in ("follow", "unfollow"):
            if ok:
                s["following"] = op == "follow"
        elif op == "unregister":
            ok = True
            if state.pop(me, None) is not None:
                gone.add(me)
        accepted += ok
        ops[op] = ops.get(op, 0) + 1
        f.write(json.dumps(c, ensure_ascii=False) + "\n")

owners = {}
for me, s in state.items():
    for fam in s["family"]:
        owners[fam] = owners.get(fam, 0) + 1
cases["shared_family"] = sum(1 for k in owners.values() if k > 1)
fig = {st: {"followers": 0, "registered": 0, "protected": set()} for st in REAL}
for me, s in state.items():
    st = fig[s["station"]]
    st["followers"] += s["following"]
    if REAL[s["station"]]:
        st["registered"] += 1
        st["protected"].update([me] + list(s["family"]))
with open(expected, "w") as f:
    for name in sorted(fig):
        x = fig[name]
        f.write("%s followers=%d registered=%d protected=%d\n"
                % (name, x["followers"], x["registered"], len(x["protected"])))
    f.write("accepted %d\n" % accepted)
    f.write("ops %s\n" % " ".join("%s=%d" % kv for kv in sorted(ops.items())))
    f.write("cases %s\n" % " ".join("%s=%d" % kv for kv in sorted(cases.items())))
EOF
"$GB_PYTHON" "$IT_DIR/gen.py" "$IT_DIR/changes.jsonl" "$IT_DIR/expected.txt" "$total" ||
  it_fail "the generator failed"
gb_log "$(grep '^ops' "$IT_DIR/expected.txt")"
gb_log "$(grep '^cases' "$IT_DIR/expected.txt")"
# The mix covers what it must: every kind of change, attempts past 8 family
# numbers, a register that moves, a return after unregister, numbers shared.
for w in register update_profile add_family remove_family change_station follow unfollow unregister; do
  grep -Eq "^ops .*\b$w=[1-9]" "$IT_DIR/expected.txt" || it_fail "the mix has no $w"
done
for w in over_limit moved_by_register back_after_unregister shared_family; do
  grep -Eq "^cases .*\b$w=[1-9]" "$IT_DIR/expected.txt" || it_fail "the mix has no $w"
done

start=$(gb_now_ms)
"$GB_BUILD_DIR/tools/gb-publish" -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_registry" -f jsonl \
  --key registrant -q "$IT_DIR/changes.jsonl" 2>"$IT_DIR/publish.log" ||
  it_fail "gb-publish failed: $(cat "$IT_DIR/publish.log")"
published=$(gb_now_ms)

results() {
  timeout 60 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_registry_results" -o beginning -e -q \
    -f '%s\n' 2>>"$IT_DIR/kcat.log" || true
}
matcher_alive() { gb_pid_alive "$(cat "$IT_DIR/matcher.pid")"; }
all_results() {
  matcher_alive || return 100
  [ "$(results | grep -c request_id)" -ge "$total" ]
}
GB_WAIT_INTERVAL=1 gb_wait_until 180 "$total results on $IT_TOPIC_gb_registry_results" all_results ||
  it_fail "only $(results | grep -c request_id) of $total results"
applied=$(gb_now_ms)
results >"$IT_DIR/results.txt"
n_results=$(grep -c request_id "$IT_DIR/results.txt")
n_accepted=$(grep -c '"accepted":true' "$IT_DIR/results.txt")
[ "$n_results" = "$total" ] || it_fail "$n_results results for $total changes"
n_dead=$(timeout 30 kcat -C -b "$IT_BOOTSTRAP" -t "$IT_TOPIC_gb_dlq" -o beginning -e -q -f '%o\n' 2>>"$IT_DIR/kcat.log" | grep -c . || true)
[ "$n_dead" = 0 ] || it_fail "$n_dead changes were dead-lettered"

# ---- no drift ----
reg() {
  "$GB_BUILD_DIR/tools/gb-registry" --redis.url="$IT_REDIS_URL" --redis.prefix="$IT_PREFIX" "$@"
}
rc=0
reg reconcile >"$IT_DIR/reconcile.log" 2>&1 || rc=$?
reconciled=$(gb_now_ms)
cat "$IT_DIR/reconcile.log" >&2
[ "$rc" = 0 ] || it_fail "reconcile: exit $rc, want 0"
grep -qx 'stations 3 drifted 0' "$IT_DIR/reconcile.log" || it_fail "reconcile: $(cat "$IT_DIR/reconcile.log")"

# ---- the figures: as the model says ----
for st in st-a st-b st-pub; do
  reg stats "$st" >"$IT_DIR/stats.$st" 2>>"$IT_DIR/tool.log" || it_fail "stats $st failed"
  gb_log "$st: $(tr '\n' ' ' <"$IT_DIR/stats.$st")"
  got="$st $(grep -E '^(followers|registered|protected)=' "$IT_DIR/stats.$st" | tr '\n' ' ' | sed 's/ $//')"
  want=$(grep "^$st " "$IT_DIR/expected.txt")
  [ "$got" = "$want" ] || it_fail "figures: got '$got', the model says '$want'"
done
want_accepted=$(sed -n 's/^accepted //p' "$IT_DIR/expected.txt")
[ "$n_accepted" = "$want_accepted" ] || it_fail "$n_accepted changes accepted, the model says $want_accepted"

IT_OK=1
gb_log "PASS: $total changes ($n_accepted accepted) applied in $((applied - published)) ms after $((published - start)) ms publishing; reconcile $((reconciled - applied)) ms; drifted 0; figures as modelled"
