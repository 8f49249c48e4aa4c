/* Applying registry changes: the registrant's record (one key, changed
 * under WATCH), then the protected-number entries and the statistics. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"
#include "gb/log.h"
#include "gb/registry.h"
#include "gb/stations.h"
#include "gb/timeparse.h"

#define SEALED_MAX 1024
#define HASH_LEN (GB_NUMKEY_HEX_LEN + 1)
#define DAY_TTL_S (40 * 86400)

struct gb_registry {
  gb_redis_t *redis;
  const char *prefix;
  const gb_numkey_t *numkey;
  const gb_keyring_t *keys;
  gb_registry_feed_fn feed;
  void *feed_ud;
};

void gb_registry_set_feed(gb_registry_t *reg, gb_registry_feed_fn fn, void *ud) {
  reg->feed = fn;
  reg->feed_ud = ud;
}

typedef struct {
  char hash[HASH_LEN];
  char phone[GB_PHONE_MAX];
  char relation[33];
} family_t;

typedef struct {
  bool exists;
  char station[65];
  bool real;
  bool following;
  int64_t reg_ms;
  int reg_day;
  int nfam;
  family_t fam[GB_FAMILY_MAX + 1];
} state_t;

int gb_china_day(int64_t ms) {
  int64_t days = (ms + 8 * 3600 * 1000LL) / 86400000LL;
  /* civil_from_days (Howard Hinnant) */
  int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  return (int)((y + (m <= 2)) * 10000 + m * 100 + d);
}

int gb_registry_new(gb_registry_t **out, gb_redis_t *redis, const char *prefix,
                    const gb_numkey_t *numkey, const gb_keyring_t *keys) {
  gb_registry_t *r = calloc(1, sizeof(*r));
  *out = r;
  if (!r) return GB_ENOMEM;
  r->redis = redis, r->prefix = prefix, r->numkey = numkey, r->keys = keys;
  return 0;
}

void gb_registry_free(gb_registry_t *reg) { free(reg); }

static void key_rg(char *out, const gb_registry_t *r, const char *h) {
  snprintf(out, 256, "%srg:{%s}", r->prefix, h);
}
static void key_pn(char *out, const gb_registry_t *r, const char *h) {
  snprintf(out, 256, "%spn:{%s}", r->prefix, h);
}

/* Reads the registrant's record under WATCH: both commands in one round
 * trip. */
static int read_state(gb_registry_t *r, const char *key, state_t *s) {
  memset(s, 0, sizeof(*s));
  gb_redis_append(r->redis, "WATCH %s", key);
  gb_redis_append(r->redis, "HGETALL %s", key);
  redisReply *w = gb_redis_reply(r->redis);
  int watched = w && w->type == REDIS_REPLY_STATUS;
  if (w) freeReplyObject(w);
  redisReply *rep = gb_redis_reply(r->redis);
  if (!watched) {
    if (rep) freeReplyObject(rep);
    return GB_EIO;
  }
  if (!rep || rep->type != REDIS_REPLY_ARRAY) {
    if (rep) freeReplyObject(rep);
    return GB_EIO;
  }
  s->exists = rep->elements > 0;
  for (size_t i = 0; i + 1 < rep->elements; i += 2) {
    const char *f = rep->element[i]->str, *v = rep->element[i + 1]->str;
    if (strcmp(f, "station") == 0) snprintf(s->station, sizeof(s->station), "%s", v);
    else if (strcmp(f, "real") == 0) s->real = v[0] == '1';
    else if (strcmp(f, "following") == 0) s->following = v[0] == '1';
    else if (strcmp(f, "reg_ms") == 0) s->reg_ms = strtoll(v, NULL, 10);
    else if (strcmp(f, "reg_day") == 0) s->reg_day = atoi(v);
    else if (strncmp(f, "f:", 2) == 0 && s->nfam < GB_FAMILY_MAX + 1) {
      family_t *fm = &s->fam[s->nfam];
      char plain[512];
      if (gb_open(r->keys, "rg.family", v, plain, sizeof(plain), NULL) != 0) {
        gb_error("registry.unreadable_family", "reason=\"cannot open a sealed family number "
                 "(key missing from the keyring?)\"");
        continue;
      }
      json_t *o = json_loads(plain, 0, NULL);
      snprintf(fm->hash, sizeof(fm->hash), "%s", f + 2);
      snprintf(fm->phone, sizeof(fm->phone), "%s", json_string_value(json_object_get(o, "phone")) ?: "");
      snprintf(fm->relation, sizeof(fm->relation), "%s",
               json_string_value(json_object_get(o, "relation")) ?: "");
      json_decref(o);
      s->nfam++;
    }
  }
  freeReplyObject(rep);
  return 0;
}

static int find_family(const state_t *s, const char *hash) {
  for (int i = 0; i < s->nfam; i++)
    if (strcmp(s->fam[i].hash, hash) == 0) return i;
  return -1;
}

static int seal_json(const gb_registry_t *r, const char *context, json_t *o, char *out) {
  char *plain = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (!plain) return GB_ENOMEM;
  int err = gb_seal(r->keys, context, plain, strlen(plain), out, SEALED_MAX);
  free(plain);
  return err;
}

/* ---- protected-number entries ---- */

/* KEYS[1] pn key. ARGV: owner, value ("" deletes), station A, station B.
 * Returns how many owners each of A and B had before and after, from which
 * the stations' protected counts move (a number counts once per station). */
static const char pn_lua[] =
    "local function count(st)\n"
    "  if st == '' then return 0 end\n"
    "  local n = 0\n"
    "  for _, v in ipairs(redis.call('HVALS', KEYS[1])) do\n"
    "    if string.sub(v, 1, #st + 1) == st .. '\\t' then n = n + 1 end\n"
    "  end\n"
    "  return n\n"
    "end\n"
    "local a0, b0 = count(ARGV[3]), count(ARGV[4])\n"
    "if ARGV[2] == '' then redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end\n"
    "return {a0, count(ARGV[3]), b0, count(ARGV[4])}\n";

/* The statistics a change moves, gathered while it is applied and sent in
 * one pipeline at the end. */
#define MAX_INCRS 32
typedef struct {
  struct {
    char key[256];
    const char *field;
    long long delta;
    int ttl; /* seconds, or 0 */
  } x[MAX_INCRS];
  int n;
} incrs_t;

static void stat_incr(incrs_t *in, const gb_registry_t *r, const char *station, const char *field,
                      long long delta) {
  if (!delta || !station[0] || in->n == MAX_INCRS) return;
  snprintf(in->x[in->n].key, sizeof(in->x[0].key), "%sstat:{st:%s}", r->prefix, station);
  in->x[in->n].field = field, in->x[in->n].delta = delta, in->x[in->n].ttl = 0;
  in->n++;
}

static void day_incr(incrs_t *in, const gb_registry_t *r, const char *station, int day,
                     const char *field) {
  if (in->n == MAX_INCRS) return;
  snprintf(in->x[in->n].key, sizeof(in->x[0].key), "%sstatd:{st:%s}:%d", r->prefix, station, day);
  in->x[in->n].field = field, in->x[in->n].delta = 1, in->x[in->n].ttl = DAY_TTL_S;
  in->n++;
}

static int incrs_send(gb_registry_t *r, const incrs_t *in) {
  int expected = 0;
  for (int i = 0; i < in->n; i++) {
    gb_redis_append(r->redis, "HINCRBY %s %s %lld", in->x[i].key, in->x[i].field, in->x[i].delta);
    expected++;
    if (in->x[i].ttl) {
      gb_redis_append(r->redis, "EXPIRE %s %d", in->x[i].key, in->x[i].ttl);
      expected++;
    }
  }
  int ok = 1;
  for (int i = 0; i < expected; i++) {
    redisReply *rep = gb_redis_reply(r->redis);
    ok = ok && rep && rep->type == REDIS_REPLY_INTEGER;
    if (rep) freeReplyObject(rep);
  }
  return ok ? 0 : GB_EIO;
}

/* One protected-number entry of the registrant, as it should be after the
 * change: present (when the registrant is protected) or absent. */
typedef struct {
  char hash[HASH_LEN];
  uint64_t tag;
  bool want;
  const char *sa, *sb; /* the stations whose protected counts may move */
} pn_op_t;

static int pn_append(gb_registry_t *r, pn_op_t *op, const char *owner_h, const char *number,
                     const char *relation, const state_t *old, const state_t *new_,
                     const char *registrant) {
  char key[256], sealed[SEALED_MAX], value[SEALED_MAX + 80] = "";
  gb_numkey_hash(r->numkey, number, op->hash);
  op->tag = gb_numkey_tag(r->numkey, number, strlen(number));
  key_pn(key, r, op->hash);
  op->want = new_->exists && new_->real;
  if (op->want) {
    json_t *o = json_pack("{s:s, s:s}", "registrant", registrant, "relation", relation);
    int err = seal_json(r, "pn.owner", o, sealed);
    if (err) return err;
    snprintf(value, sizeof(value), "%s\t%d\t%s", new_->station, new_->following ? 1 : 0, sealed);
  }
  op->sa = old->exists && old->real ? old->station : "";
  op->sb = op->want && strcmp(new_->station, op->sa) != 0 ? new_->station : "";
  return gb_redis_append(r->redis, "EVAL %s 1 %s %s %s %s %s", pn_lua, key, owner_h, value, op->sa,
                         op->sb);
}

/* Brings every protected-number entry of the registrant from old to new:
 * the writes in one pipeline, then the protected counts they move. */
static int pn_sync(gb_registry_t *r, incrs_t *in, const char *owner_h, const char *registrant,
                   const state_t *old, const state_t *new_) {
  pn_op_t ops[2 * (GB_FAMILY_MAX + 1) + 1];
  int n = 0, err = 0; /* n: commands appended, each owing a reply */
  state_t gone = *new_;
  gone.exists = false;
  if ((err = pn_append(r, &ops[n], owner_h, registrant, "self", old, new_, registrant)) == 0) n++;
  for (int i = 0; !err && i < new_->nfam; i++)
    if ((err = pn_append(r, &ops[n], owner_h, new_->fam[i].phone, new_->fam[i].relation, old,
                         new_, registrant)) == 0)
      n++;
  /* Family numbers the change removed. */
  for (int i = 0; !err && i < old->nfam; i++)
    if (find_family(new_, old->fam[i].hash) < 0 &&
        (err = pn_append(r, &ops[n], owner_h, old->fam[i].phone, old->fam[i].relation, old,
                         &gone, registrant)) == 0)
      n++;
  int ok = !err;
  for (int i = 0; i < n; i++) {
    redisReply *rep = gb_redis_reply(r->redis);
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 4) {
      ok = 0;
    } else if (ok) {
      long long a0 = rep->element[0]->integer, a1 = rep->element[1]->integer;
      long long b0 = rep->element[2]->integer, b1 = rep->element[3]->integer;
      stat_incr(in, r, ops[i].sa, "protected", (a1 > 0) - (a0 > 0));
      stat_incr(in, r, ops[i].sb, "protected", (b1 > 0) - (b0 > 0));
    }
    if (rep) freeReplyObject(rep);
  }
  if (!ok) return err ? err : GB_EIO;
  for (int i = 0; r->feed && i < n; i++) {
    if (!ops[i].want && !ops[i].sa[0]) continue;
    gb_pn_entry_t e = {ops[i].hash, ops[i].tag, owner_h,
                       ops[i].want ? new_->station : old->station,
                       ops[i].want ? new_->following : false, !ops[i].want};
    err = r->feed(r->feed_ud, &e);
    if (err) return err;
  }
  return 0;
}

static void registrant_stats(gb_registry_t *r, incrs_t *in, const gb_reg_change_t *c,
                             const state_t *o, const state_t *n) {
  bool reg_o = o->exists && o->real, reg_n = n->exists && n->real;
  if (reg_o != reg_n || (reg_o && strcmp(o->station, n->station) != 0)) {
    if (reg_o) stat_incr(in, r, o->station, "registered", -1);
    if (reg_n) stat_incr(in, r, n->station, "registered", 1);
  }
  bool fol_o = o->exists && o->following, fol_n = n->exists && n->following;
  if (fol_o != fol_n || (fol_o && strcmp(o->station, n->station) != 0)) {
    if (fol_o) stat_incr(in, r, o->station, "followers", -1);
    if (fol_n) stat_incr(in, r, n->station, "followers", 1);
  }
  int day = gb_china_day(c->ts_ms ? c->ts_ms : gb_now_ms());
  if (!o->exists && n->exists && n->real) day_incr(in, r, n->station, day, "registrations");
  if (n->exists && fol_n && !fol_o && c->op != GB_REG_CHANGE_STATION)
    day_incr(in, r, n->station, day, "follows");
  if (n->exists && fol_o && !fol_n) day_incr(in, r, n->station, day, "unfollows");
}

static void refuse(gb_reg_result_t *res, const state_t *s, const char *why) {
  res->accepted = false;
  res->protected_ = s->exists && s->real;
  snprintf(res->reason, sizeof(res->reason), "%s", why);
}

/* Computes the new state and queues its writes (inside MULTI). Returns 0,
 * 1 when the change is refused (res filled), or a negative code. */
static int plan(gb_registry_t *r, const gb_reg_change_t *c, const char *key, const state_t *o,
                const gb_station_t *st, int st_found, state_t *n, gb_reg_result_t *res,
                int *nwrites) {
  *n = *o;
  *nwrites = 0;
  char sealed[SEALED_MAX];
  if (c->op != GB_REG_REGISTER && c->op != GB_REG_UNREGISTER && !o->exists) {
    refuse(res, o, "not registered: register first");
    return 1;
  }
  switch (c->op) {
  case GB_REG_REGISTER:
  case GB_REG_CHANGE_STATION: {
    if (!st_found || !st->active) {
      refuse(res, o, "unknown station: pick a police station from the list");
      return 1;
    }
    snprintf(n->station, sizeof(n->station), "%s", st->id);
    n->real = st->real;
    if (c->op == GB_REG_REGISTER) {
      n->following = c->following;
      if (!o->exists) {
        n->exists = true;
        n->reg_ms = c->ts_ms ? c->ts_ms : gb_now_ms();
        n->reg_day = gb_china_day(n->reg_ms);
      }
      if (gb_seal(r->keys, "rg.phone", c->registrant, strlen(c->registrant), sealed, sizeof(sealed)))
        return GB_ENOMEM;
      gb_redis_append(r->redis, "HSET %s phone %s reg_ms %lld reg_day %d", key, sealed,
                      (long long)n->reg_ms, n->reg_day);
      (*nwrites)++;
    }
    gb_redis_append(r->redis, "HSET %s station %s real %d following %d", key, n->station,
                    n->real ? 1 : 0, n->following ? 1 : 0);
    (*nwrites)++;
    break;
  }
  case GB_REG_UPDATE_PROFILE:
    break;
  case GB_REG_ADD_FAMILY: {
    char h[HASH_LEN];
    gb_numkey_hash(r->numkey, c->family, h);
    int i = find_family(o, h);
    if (i < 0 && o->nfam >= GB_FAMILY_MAX) {
      refuse(res, o, "at most 8 family numbers: remove one before adding another");
      return 1;
    }
    if (i < 0) i = n->nfam++;
    family_t *f = &n->fam[i];
    snprintf(f->hash, sizeof(f->hash), "%s", h);
    snprintf(f->phone, sizeof(f->phone), "%s", c->family);
    snprintf(f->relation, sizeof(f->relation), "%s", c->relation);
    int err = seal_json(r, "rg.family",
                        json_pack("{s:s, s:s}", "phone", c->family, "relation", c->relation),
                        sealed);
    if (err) return err;
    gb_redis_append(r->redis, "HSET %s f:%s %s", key, h, sealed);
    (*nwrites)++;
    break;
  }
  case GB_REG_REMOVE_FAMILY: {
    char h[HASH_LEN];
    gb_numkey_hash(r->numkey, c->family, h);
    int i = find_family(o, h);
    if (i >= 0) {
      n->fam[i] = n->fam[--n->nfam];
      gb_redis_append(r->redis, "HDEL %s f:%s", key, h);
      (*nwrites)++;
    }
    break;
  }
  case GB_REG_FOLLOW:
  case GB_REG_UNFOLLOW:
    n->following = c->op == GB_REG_FOLLOW;
    gb_redis_append(r->redis, "HSET %s following %d", key, n->following ? 1 : 0);
    (*nwrites)++;
    break;
  case GB_REG_UNREGISTER:
    memset(n, 0, sizeof(*n));
    if (o->exists) {
      gb_redis_append(r->redis, "DEL %s", key);
      (*nwrites)++;
    }
    break;
  }
  if (c->has_profile && n->exists) {
    json_t *p = json_pack("{s:s, s:i, s:s}", "name", c->name, "age", c->age, "occupation",
                          c->occupation);
    if (c->has_location) {
      json_object_set_new(p, "lat", json_real(c->lat));
      json_object_set_new(p, "lon", json_real(c->lon));
    }
    int err = seal_json(r, "rg.profile", p, sealed);
    if (err) return err;
    gb_redis_append(r->redis, "HSET %s profile %s", key, sealed);
    (*nwrites)++;
  }
  return 0;
}

int gb_registry_apply(gb_registry_t *r, const gb_reg_change_t *c, gb_reg_result_t *res) {
  char h[HASH_LEN], key[256];
  state_t old, new_;
  memset(res, 0, sizeof(*res));
  gb_numkey_hash(r->numkey, c->registrant, h);
  key_rg(key, r, h);
  /* The unit is read before the transaction: commands sent between MULTI
   * and EXEC are queued, not answered. */
  gb_station_t st;
  int st_found = 0;
  if (c->op == GB_REG_REGISTER || c->op == GB_REG_CHANGE_STATION) {
    int e = gb_station_get(r->redis, r->prefix, c->station_id, &st);
    if (e == GB_EIO) return e;
    st_found = e == 0;
  }
  for (int attempt = 0;; attempt++) {
    if (attempt == 10) return GB_EIO; /* someone else keeps changing this registrant */
    int err = read_state(r, key, &old);
    if (err) return err;
    gb_redis_append(r->redis, "MULTI");
    int nwrites = 0;
    int p = plan(r, c, key, &old, &st, st_found, &new_, res, &nwrites);
    if (p < 0 || p == 1) {
      gb_redis_append(r->redis, "DISCARD");
      for (int i = 0; i < nwrites + 2; i++) {
        redisReply *x = gb_redis_reply(r->redis);
        if (x) freeReplyObject(x);
      }
      redisReply *w = gb_redis_command(r->redis, "UNWATCH");
      if (w) freeReplyObject(w);
      return p < 0 ? p : 0;
    }
    gb_redis_append(r->redis, "EXEC");
    redisReply *x = NULL;
    int ok = 1;
    for (int i = 0; i < nwrites + 2; i++) {
      if (x) freeReplyObject(x);
      x = gb_redis_reply(r->redis);
      ok = ok && x && x->type != REDIS_REPLY_ERROR;
    }
    int aborted = ok && x->type == REDIS_REPLY_NIL; /* the record changed under us */
    if (x) freeReplyObject(x);
    if (!ok) return GB_EIO;
    if (!aborted) break;
  }
  incrs_t incrs;
  incrs.n = 0;
  int err = pn_sync(r, &incrs, h, c->registrant, &old, &new_);
  if (err) return err;
  registrant_stats(r, &incrs, c, &old, &new_);
  if ((err = incrs_send(r, &incrs)) != 0) return err;
  res->accepted = true;
  res->protected_ = new_.exists && new_.real;
  if (c->op == GB_REG_UNREGISTER)
    snprintf(res->reason, sizeof(res->reason), "%s",
             old.exists ? "unregistered: every record of you and your family numbers is erased"
                        : "not registered: nothing to erase");
  else if (new_.exists && !new_.real)
    snprintf(res->reason, sizeof(res->reason),
             "recorded with a publicity unit, which protects nobody: choose your police "
             "station to be protected");
  else if (c->op == GB_REG_REMOVE_FAMILY && old.nfam == new_.nfam)
    snprintf(res->reason, sizeof(res->reason), "that number was not among your family numbers");
  return 0;
}
