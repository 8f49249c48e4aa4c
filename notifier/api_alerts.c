/* The station's alerts as a listing and one alert with its people
 * (docs/API.md, "Alerts"):
 *   GET /v1/alerts[?station=<id>][&state=open|closed|all][&limit=N][&before=<ms>]
 *   GET /v1/alerts/:id[?station=<id>]
 * The station is the caller's own, or ?station= (a bureau administrator
 * must name one; anyone else may name only their own). The listing walks
 * the station's index ali:{st:<s>} (alert id -> arrived_ms, kept by
 * feed.c) newest first, reads the alerts' states, then the matching alerts
 * and their officers' names, each step one pipeline, so a page costs a few
 * round trips whatever its length. The detail adds the people the alert is
 * about, opened from their sealed records (gb/keyring.h); every such read
 * is audited in access:{st:<s>} and logged, without numbers or names.
 * Loop thread only. */
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "gb/keys.h"
#include "gb/log.h"
#include "gb/phone.h"
#include "gb/timeparse.h"
#include "notifier.h"
#include "respond.h"
#include "sealed.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX 500
#define SCAN_MAX 2000 /* index entries one listing request examines at most */
#define ACCESS_MAXLEN "100000"
#define ID_MAX 80
#define PROFILE_MAX 2048

typedef enum { F_STR, F_ACCOUNT, F_TIME, F_INT, F_OBJ } field_kind_t;

/* The alert hash's workflow fields as the API names them: the names of the
 * push stream's alert.workflow events where they overlap (state,
 * claimed_by, dispute), times as RFC 3339 (the hash's <x>_ms as <x>), an
 * account as its id and <name>_name. */
static const struct {
  const char *field, *name;
  field_kind_t kind;
} wf_fields[] = {
    {"state", "state", F_STR},
    {"arrived_ms", "arrived", F_TIME},
    {"claimed_by", "claimed_by", F_ACCOUNT},
    {"claimed_ms", "claimed", F_TIME},
    {"first_claimed_ms", "first_claimed", F_TIME},
    {"released_ms", "released", F_TIME},
    {"resolved_by", "resolved_by", F_ACCOUNT},
    {"resolved_ms", "resolved", F_TIME},
    {"record", "record", F_OBJ},
    {"disputed_by", "disputed_by", F_ACCOUNT},
    {"disputed_ms", "disputed", F_TIME},
    {"dispute", "dispute", F_OBJ},
    {"settled_by", "settled_by", F_ACCOUNT},
    {"settled_ms", "settled", F_TIME},
    {"reassigned_to", "reassigned_to", F_STR},
    {"escalated", "escalation_level", F_INT},
    {"escalated_ms", "escalated", F_TIME},
    {"reminders", "reminders", F_INT},
    {"reminded_ms", "reminded", F_TIME},
};
#define WF_FIELDS (sizeof(wf_fields) / sizeof(wf_fields[0]))

typedef enum { ST_OPEN, ST_CLOSED, ST_ALL } state_filter_t;

static bool state_matches(state_filter_t f, const char *state) {
  if (!state) return false; /* listed, but the alert is gone */
  bool open = !strcmp(state, "new") || !strcmp(state, "claimed") || !strcmp(state, "disputed");
  bool closed = !strcmp(state, "resolved") || !strcmp(state, "reassigned");
  return f == ST_ALL ? open || closed : f == ST_OPEN ? open : closed;
}

/* Authenticates and picks the station (into buf). false: it answered. */
static bool pick_station(notifier_t *n, gb_http_req_t *req, gb_auth_t *a, char *buf, size_t size,
                         const char **station) {
  if (!auth_require(n, req, a)) return false;
  const char *s = gb_http_req_query_param(req, "station", buf, size);
  if (s && !*s) s = NULL;
  if (!s && !a->account.station[0]) {
    respond_error(req, 400, "station: a bureau administrator names it, ?station=<id>");
    return false;
  }
  if (!s) s = a->account.station;
  if (!gb_account_id_valid(s)) {
    respond_error(req, 400, "station: 1-64 of a-z 0-9 . _ -");
    return false;
  }
  if (!gb_account_may_station(&a->account, s)) {
    gb_info("auth.forbidden", "account=%s station=%s", a->account.id, s);
    respond_error(req, 403, "account %s may not see station %s", a->account.id, s);
    return false;
  }
  *station = s;
  return true;
}

/* Account ids met while building items, and their names. */
typedef struct {
  json_t *names; /* id -> name (string) or null */
} names_t;

static void names_want(names_t *nm, const char *id) {
  if (id && *id && !json_object_get(nm->names, id)) json_object_set_new(nm->names, id, json_null());
}

/* Appends one HGET per wanted account (in the object's order); collect with
 * names_collect after the commands appended before them. */
static void names_append(notifier_t *n, names_t *nm) {
  const char *id;
  json_t *v;
  char k[GB_KEY_MAX];
  json_object_foreach(nm->names, id, v) {
    snprintf(k, sizeof(k), "%sacct:{a:%s}", n->prefix, id);
    gb_redis_append(n->redis, "HGET %s name", k);
  }
}

static int names_collect(notifier_t *n, names_t *nm) {
  const char *id;
  json_t *v;
  int err = 0;
  json_object_foreach(nm->names, id, v) {
    redisReply *r = gb_redis_reply(n->redis);
    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)) err = -1;
    else if (r->type == REDIS_REPLY_STRING) json_object_set_new(nm->names, id, json_string(r->str));
    if (r) freeReplyObject(r);
  }
  return err;
}

static const char *hash_get(const redisReply *h, const char *field) {
  for (size_t i = 0; h && i + 1 < h->elements; i += 2)
    if (!strcmp(h->element[i]->str, field)) return h->element[i + 1]->str;
  return NULL;
}

static void names_want_hash(names_t *nm, const redisReply *h) {
  for (size_t i = 0; i < WF_FIELDS; i++)
    if (wf_fields[i].kind == F_ACCOUNT) names_want(nm, hash_get(h, wf_fields[i].field));
}

/* An alert as the API shows it: the alert JSON as stored, with "workflow"
 * from the hash (an HGETALL reply). NULL when the hash is empty. */
static json_t *item_json(const gb_keyring_t *kr, const redisReply *h, const names_t *nm) {
  if (!h || h->type != REDIS_REPLY_ARRAY || h->elements == 0) return NULL;
  const char *stored = hash_get(h, "json");
  char *js = stored ? sealed_open(kr, SEALED_FEED, stored) : NULL; /* sealed.h */
  json_t *o = js ? json_loads(js, 0, NULL) : NULL;
  free(js);
  if (!json_is_object(o)) {
    json_decref(o);
    return NULL;
  }
  json_t *wf = json_object();
  for (size_t i = 0; i < WF_FIELDS; i++) {
    const char *v = hash_get(h, wf_fields[i].field), *name = wf_fields[i].name;
    char buf[40];
    switch (wf_fields[i].kind) {
    case F_STR:
      if (v && *v) json_object_set_new(wf, name, json_string(v));
      break;
    case F_ACCOUNT: {
      /* A released alert's claimed_by is "": nobody has it. */
      bool who = v && *v;
      char nk[64];
      snprintf(nk, sizeof(nk), "%s_name", name);
      if (!who && strcmp(name, "claimed_by") != 0) break;
      json_object_set_new(wf, name, who ? json_string(v) : json_null());
      json_t *nv = who ? json_object_get(nm->names, v) : NULL;
      json_object_set_new(wf, nk, nv ? json_incref(nv) : json_null());
      break;
    }
    case F_TIME:
      if (!v || !*v) break;
      /* The time of a claim is shown while it holds. */
      if (!strcmp(name, "claimed") && !json_is_string(json_object_get(wf, "claimed_by"))) break;
      gb_time_format(buf, sizeof(buf), strtoll(v, NULL, 10));
      json_object_set_new(wf, name, json_string(buf));
      break;
    case F_INT:
      json_object_set_new(wf, name, json_integer(v ? strtoll(v, NULL, 10) : 0));
      break;
    case F_OBJ: {
      json_t *d = v && *v ? json_loads(v, 0, NULL) : NULL;
      if (d) json_object_set_new(wf, name, d);
      break;
    }
    }
  }
  json_object_set_new(o, "workflow", wf);
  return o;
}

static void on_list(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  gb_auth_t a;
  char sbuf[GB_ACCOUNT_ID_MAX + 1], fbuf[16], bbuf[24];
  const char *station;
  if (!pick_station(n, req, &a, sbuf, sizeof(sbuf), &station)) return;
  state_filter_t filter = ST_OPEN;
  const char *f = gb_http_req_query_param(req, "state", fbuf, sizeof(fbuf));
  if (f && !strcmp(f, "closed")) filter = ST_CLOSED;
  else if (f && !strcmp(f, "all")) filter = ST_ALL;
  else if (f && strcmp(f, "open") != 0) {
    respond_error(req, 400, "state: open, closed or all");
    return;
  }
  long limit;
  if (!respond_limit(req, LIMIT_DEFAULT, LIMIT_MAX, &limit)) return;
  char cursor[32] = "+inf";
  const char *b = gb_http_req_query_param(req, "before", bbuf, sizeof(bbuf));
  if (b) {
    size_t d = strspn(b, "0123456789");
    if (d == 0 || d > 15 || b[d]) {
      respond_error(req, 400, "before: the next_before of the previous page (epoch ms)");
      return;
    }
    snprintf(cursor, sizeof(cursor), "(%s", b);
  }
  char kl[GB_KEY_MAX], ka[GB_KEY_MAX];
  gb_key_station(kl, n->prefix, "ali", station);
  char(*ids)[ID_MAX] = calloc((size_t)limit, ID_MAX);
  redisReply **hashes = calloc((size_t)limit, sizeof(*hashes));
  names_t nm = {.names = json_object()};
  json_t *items = json_array();
  int nitems = 0, scanned = 0, err = !ids || !hashes;
  bool exhausted = false, more = false;
  long long last_item_ms = 0, last_scanned_ms = 0;
  /* Walk the index until the page is full, the index ends, or SCAN_MAX
   * entries were examined (a sparse filter: the client pages on). */
  while (!err && nitems < limit && !more && !exhausted && scanned < SCAN_MAX) {
    long batch = limit - nitems + 1;
    if (filter != ST_ALL && batch < 100) batch = 100;
    if (batch > SCAN_MAX - scanned) batch = SCAN_MAX - scanned;
    redisReply *z = gb_redis_command(n->redis, "ZREVRANGEBYSCORE %s %s -inf WITHSCORES LIMIT 0 %ld",
                                     kl, cursor, batch);
    if (!z || z->type != REDIS_REPLY_ARRAY) {
      if (z) freeReplyObject(z);
      err = 1;
      break;
    }
    size_t got = z->elements / 2;
    if ((long)got < batch) exhausted = true;
    redisReply **states = NULL;
    if (filter != ST_ALL && got > 0) {
      states = calloc(got, sizeof(*states));
      for (size_t i = 0; states && i < got; i++)
        gb_redis_append(n->redis, "HGET %s state",
                        gb_key_alert(ka, n->prefix, station, z->element[2 * i]->str));
      for (size_t i = 0; states && i < got; i++) {
        redisReply *r = states[i] = gb_redis_reply(n->redis);
        if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)) err = 1;
      }
      if (!states) err = 1;
    }
    for (size_t i = 0; !err && i < got; i++) {
      const char *id = z->element[2 * i]->str;
      long long ms = strtoll(z->element[2 * i + 1]->str, NULL, 10);
      if (filter == ST_ALL || state_matches(filter, states[i]->str)) {
        if (nitems == limit) {
          more = true; /* one beyond the page: there is a next one */
          break;
        }
        snprintf(ids[nitems++], ID_MAX, "%s", id);
        last_item_ms = ms;
      }
      last_scanned_ms = ms;
      scanned++;
    }
    snprintf(cursor, sizeof(cursor), "(%lld", last_scanned_ms);
    for (size_t i = 0; states && i < got; i++)
      if (states[i]) freeReplyObject(states[i]);
    free(states);
    freeReplyObject(z);
  }
  /* The page's alerts, then their officers' names. */
  if (err) nitems = 0;
  for (int i = 0; i < nitems; i++)
    gb_redis_append(n->redis, "HGETALL %s", gb_key_alert(ka, n->prefix, station, ids[i]));
  /* Every reply appended is read, whatever came before, so that none is
   * left for the connection's next command. */
  for (int i = 0; i < nitems; i++) {
    hashes[i] = gb_redis_reply(n->redis);
    if (!hashes[i] || hashes[i]->type != REDIS_REPLY_ARRAY) err = 1;
    else names_want_hash(&nm, hashes[i]);
  }
  if (!err && json_object_size(nm.names) > 0) {
    names_append(n, &nm);
    err = names_collect(n, &nm) != 0;
  }
  for (int i = 0; !err && i < nitems; i++) {
    json_t *it = item_json(&n->keys, hashes[i], &nm);
    if (it) json_array_append_new(items, it);
  }
  for (int i = 0; hashes && i < nitems; i++)
    if (hashes[i]) freeReplyObject(hashes[i]);
  free(hashes);
  free(ids);
  json_decref(nm.names);
  if (err) {
    json_decref(items);
    respond_error(req, 503, "alerts unavailable; try again");
    return;
  }
  /* The cursor of the next page: after the last alert shown when the page
   * is full, after the last entry examined when the scan stopped short;
   * null when the index has nothing further. */
  json_t *next = json_null();
  if (nitems == limit && (more || !exhausted)) next = json_integer(last_item_ms);
  else if (nitems < limit && !exhausted) next = json_integer(last_scanned_ms);
  respond_json(req, 200, json_pack("{s:o, s:o}", "alerts", items, "next_before", next));
}

/* The people an alert is about and whom to call: its subject, each
 * registrant who protects them (the alert's protectors), and, when the
 * subject is a registrant, the family numbers they registered; once each. */
typedef struct {
  const char *phone, *role, *relation, *station_id;
  const char *sealed; /* the sealed profile (rg:{h} profile), NULL: none */
  char hash[GB_NUMKEY_HEX_LEN + 1];
  char own_phone[GB_PHONE_MAX], own_relation[64]; /* a family member's, opened */
} person_t;

#define PEOPLE_MAX 32

static bool person_listed(const person_t *p, int np, const char *phone) {
  for (int j = 0; j < np; j++)
    if (!strcmp(p[j].phone, phone)) return true;
  return false;
}

static int people_of(notifier_t *n, const json_t *alert, const char *station, person_t *p) {
  const char *subject = json_string_value(json_object_get(alert, "subject"));
  const json_t *prot = json_object_get(alert, "protectors");
  if (!subject) return 0;
  /* The subject's relation: "self" when they registered themselves, else
   * as a protector of this station names it (the first otherwise). */
  const char *rel_any = NULL, *rel_here = NULL;
  bool self = false;
  size_t i;
  json_t *pr;
  json_array_foreach(prot, i, pr) {
    const char *r = json_string_value(json_object_get(pr, "registrant"));
    const char *s = json_string_value(json_object_get(pr, "station_id"));
    const char *rel = json_string_value(json_object_get(pr, "relation"));
    if (r && !strcmp(r, subject)) self = true;
    if (!rel_any) rel_any = rel;
    if (!rel_here && s && !strcmp(s, station)) rel_here = rel;
  }
  int np = 0;
  p[np++] = (person_t){.phone = subject, .role = "subject",
                       .relation = self ? "self" : rel_here ? rel_here : rel_any};
  json_array_foreach(prot, i, pr) {
    const char *r = json_string_value(json_object_get(pr, "registrant"));
    if (!r || np == PEOPLE_MAX || person_listed(p, np, r)) continue;
    p[np++] = (person_t){.phone = r,
                         .role = "registrant",
                         .relation = json_string_value(json_object_get(pr, "relation")),
                         .station_id = json_string_value(json_object_get(pr, "station_id"))};
  }
  for (int j = 0; j < np; j++) gb_numkey_hash(&n->numkey, p[j].phone, p[j].hash);
  return np;
}

/* Adds the family numbers of the subject's record (an HGETALL reply of
 * rg:{h}: f:<hash> sealed {phone, relation}) to p; returns the new count. */
static int family_of(notifier_t *n, const redisReply *rg, person_t *p, int np,
                     const char *alert_id) {
  char plain[512];
  for (size_t i = 0; rg && i + 1 < rg->elements && np < PEOPLE_MAX; i += 2) {
    if (strncmp(rg->element[i]->str, "f:", 2) != 0) continue;
    size_t len = 0;
    if (gb_open(&n->keys, "rg.family", rg->element[i + 1]->str, plain, sizeof(plain), &len) != 0) {
      gb_error("alert.unreadable_family", "alert=%s reason=\"cannot open a sealed family number "
               "(key missing from the keyring?)\"", alert_id);
      continue;
    }
    json_t *o = json_loadb(plain, len, 0, NULL);
    sodium_memzero(plain, len);
    const char *phone = json_string_value(json_object_get(o, "phone"));
    const char *rel = json_string_value(json_object_get(o, "relation"));
    if (phone && !person_listed(p, np, phone)) {
      person_t *f = &p[np++];
      *f = (person_t){.role = "family"};
      snprintf(f->own_phone, sizeof(f->own_phone), "%s", phone);
      snprintf(f->own_relation, sizeof(f->own_relation), "%s", rel ? rel : "");
      f->phone = f->own_phone;
      f->relation = rel ? f->own_relation : NULL;
      gb_numkey_hash(&n->numkey, f->phone, f->hash);
    }
    json_decref(o);
  }
  return np;
}

/* A person's entry: name, age and occupation from their sealed profile,
 * never the location; null without one (a number nobody registered). */
static json_t *person_json(notifier_t *n, const person_t *p, const char *alert_id) {
  json_t *o = json_pack("{s:s, s:s, s:s?, s:n, s:n, s:n}", "phone", p->phone, "role", p->role,
                        "relation", p->relation, "name", "age", "occupation");
  if (p->station_id) json_object_set_new(o, "station_id", json_string(p->station_id));
  if (!p->sealed) return o;
  static char plain[PROFILE_MAX];
  size_t len = 0;
  if (gb_open(&n->keys, "rg.profile", p->sealed, plain, sizeof(plain), &len) != 0) {
    gb_error("alert.unreadable_profile", "alert=%s reason=\"cannot open a sealed profile "
             "(key missing from the keyring?)\"", alert_id);
    return o;
  }
  json_t *pf = json_loadb(plain, len, 0, NULL);
  sodium_memzero(plain, len);
  json_t *v;
  if ((v = json_object_get(pf, "name")) && json_is_string(v) && json_string_length(v))
    json_object_set(o, "name", v);
  if ((v = json_object_get(pf, "age")) && json_is_integer(v) && json_integer_value(v) > 0)
    json_object_set(o, "age", v);
  if ((v = json_object_get(pf, "occupation")) && json_is_string(v) && json_string_length(v))
    json_object_set(o, "occupation", v);
  json_decref(pf);
  return o;
}

/* A reply that is a bulk string or nil; anything else is a failure. */
static bool string_or_nil(const redisReply *r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL);
}

static void on_detail(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  gb_auth_t a;
  char sbuf[GB_ACCOUNT_ID_MAX + 1];
  const char *station;
  if (!pick_station(n, req, &a, sbuf, sizeof(sbuf), &station)) return;
  const char *id = gb_http_req_param(req, "id");
  if (!id || !*id || strlen(id) > 64 || strspn(id, "0123456789abcdef") != strlen(id)) {
    respond_error(req, 404, "no such alert at station %s", station);
    return;
  }
  char ka[GB_KEY_MAX], kr[GB_KEY_MAX], kx[GB_KEY_MAX], now[24];
  redisReply *h =
      gb_redis_command(n->redis, "HGETALL %s", gb_key_alert(ka, n->prefix, station, id));
  if (!h || h->type != REDIS_REPLY_ARRAY) {
    if (h) freeReplyObject(h);
    respond_error(req, 503, "alerts unavailable; try again");
    return;
  }
  /* Low-risk alerts (info) are the registrant's alone: not the officers'. */
  const char *state = hash_get(h, "state");
  if (h->elements == 0 || !state || !strcmp(state, "info")) {
    freeReplyObject(h);
    respond_error(req, 404, "no such alert at station %s", station);
    return;
  }
  names_t nm = {.names = json_object()};
  names_want_hash(&nm, h);
  json_t *item = item_json(&n->keys, h, &nm); /* without the names: made again once they are read */
  if (!item) {
    gb_error("alert.unreadable", "alert=%s station=%s reason=\"stored JSON is not an object\"",
             id, station);
    json_decref(nm.names);
    freeReplyObject(h);
    respond_error(req, 503, "alert %s cannot be read; tell the operators", id);
    return;
  }
  person_t people[PEOPLE_MAX];
  redisReply *rep[PEOPLE_MAX] = {0};
  int np = people_of(n, item, station, people), err = 0;
  /* One pipeline: the names, the subject's record (profile and family
   * numbers), the registrants' profiles, the audit entry. */
  names_append(n, &nm);
  for (int i = 0; i < np; i++)
    gb_redis_append(n->redis, i == 0 ? "HGETALL %s" : "HGET %s profile",
                    gb_key_registrant(kr, n->prefix, people[i].hash));
  snprintf(now, sizeof(now), "%lld", (long long)gb_now_ms());
  gb_redis_append(n->redis, "XADD %s MAXLEN ~ " ACCESS_MAXLEN " * account %s alert %s ts_ms %s",
                  gb_key_station(kx, n->prefix, "access", station), a.account.id, id, now);
  err |= names_collect(n, &nm) != 0;
  for (int i = 0; i < np; i++) {
    rep[i] = gb_redis_reply(n->redis);
    if (i == 0 ? !rep[i] || rep[i]->type != REDIS_REPLY_ARRAY : !string_or_nil(rep[i])) err = 1;
  }
  redisReply *x = gb_redis_reply(n->redis);
  if (!x || x->type != REDIS_REPLY_STRING) err = 1; /* no audit entry, no people */
  if (x) freeReplyObject(x);
  if (!err && np > 0) {
    people[0].sealed = hash_get(rep[0], "profile");
    for (int i = 1; i < np; i++)
      if (rep[i]->type == REDIS_REPLY_STRING) people[i].sealed = rep[i]->str;
    /* The subject's family numbers, and the profiles of those who
     * registered themselves too: one more round trip, when there are any. */
    int nfirst = np;
    np = family_of(n, rep[0], people, np, id);
    for (int i = nfirst; i < np; i++)
      gb_redis_append(n->redis, "HGET %s profile",
                      gb_key_registrant(kr, n->prefix, people[i].hash));
    for (int i = nfirst; i < np; i++) {
      rep[i] = gb_redis_reply(n->redis);
      if (!string_or_nil(rep[i])) err = 1;
      else if (rep[i]->type == REDIS_REPLY_STRING) people[i].sealed = rep[i]->str;
    }
  }
  json_t *list = json_array();
  for (int i = 0; !err && i < np; i++) json_array_append_new(list, person_json(n, &people[i], id));
  for (int i = 0; i < np; i++)
    if (rep[i]) freeReplyObject(rep[i]);
  json_decref(item);
  if (err) {
    json_decref(list);
    json_decref(nm.names);
    freeReplyObject(h);
    respond_error(req, 503, "alerts unavailable; try again");
    return;
  }
  item = item_json(&n->keys, h, &nm);
  freeReplyObject(h);
  json_decref(nm.names);
  json_object_set_new(item, "people", list);
  gb_info("alert.viewed", "alert=%s station=%s by=%s", id, station, a.account.id);
  respond_json(req, 200, item);
}

void notifier_api_alerts_register(notifier_t *n) {
  gb_http_route(n->http, "GET", "/v1/alerts", on_list, n);
  gb_http_route(n->http, "GET", "/v1/alerts/:id", on_detail, n);
}
