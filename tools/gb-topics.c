/*
 * gb-topics: create and list Kafka topics through librdkafka's Admin API.
 *
 *   gb-topics -b BOOTSTRAP [-p partitions] [-r replication] [-c key=value]...
 *             [-X key=value]... [-t timeout_ms] create TOPIC...
 *   gb-topics -b BOOTSTRAP [-X key=value]... [-t timeout_ms] list
 *
 * create sends one CreateTopics request for all topics. A topic that already
 * exists counts as success. It then waits (within the same -t bound) until
 * every broker's metadata shows every topic with a leader for each
 * partition, so that a client started right afterwards does not race the
 * metadata propagation, whichever broker it asks. One line per topic goes to stderr: "created X" or
 * "exists X".
 *
 * list prints "TOPIC<TAB>PARTITIONS" per topic to stdout, sorted by name.
 *
 * lag GROUP TOPIC... prints, for every partition of the topics,
 * "TOPIC<TAB>PARTITION<TAB>COMMITTED<TAB>END<TAB>LAG" to stdout: the group's
 * committed offset ("-" if none; the lag then counts from the partition's
 * start, where a new consumer with auto.offset.reset=earliest begins), the
 * end offset (high watermark) and how many records the group has not
 * committed yet. The consumer-group tool of Kafka's distribution, for hosts
 * without Java.
 *
 * -p and -r default to -1, which means the broker's num.partitions and
 * default.replication.factor. -c sets a topic config (e.g. retention.ms),
 * -X a librdkafka client property, passed through unchanged as kcat does.
 *
 * Exit status: 0 success, 1 a Kafka error (message on stderr), 2 bad usage.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define GB_TOPICS_MAX_KV 64

typedef struct gb_topics_kv_s {
  char *key; /* owned; value points into the same allocation */
  const char *value;
} gb_topics_kv_t;

typedef struct gb_topics_opts_s {
  const char *bootstrap;
  int partitions;
  int replication;
  int timeout_ms;
  gb_topics_kv_t topic_conf[GB_TOPICS_MAX_KV];
  int topic_conf_cnt;
  gb_topics_kv_t client_conf[GB_TOPICS_MAX_KV];
  int client_conf_cnt;
} gb_topics_opts_t;

static void usage(FILE *fp) {
  fprintf(fp,
          "usage: gb-topics -b BOOTSTRAP [-p partitions] [-r replication]\n"
          "                 [-c key=value]... [-X key=value]... [-t timeout_ms]\n"
          "                 create TOPIC...\n"
          "       gb-topics -b BOOTSTRAP [-X key=value]... [-t timeout_ms] list\n"
          "       gb-topics -b BOOTSTRAP [-X key=value]... [-t timeout_ms]\n"
          "                 delete-records TOPIC PARTITION BEFORE_OFFSET\n"
          "       gb-topics -b BOOTSTRAP [-X key=value]... [-t timeout_ms]\n"
          "                 lag GROUP TOPIC...\n"
          "\n"
          "  -b  bootstrap servers, host:port[,host:port...]\n"
          "  -p  partitions per topic (default -1: broker's num.partitions)\n"
          "  -r  replication factor (default -1: broker's default)\n"
          "  -c  topic config, repeatable (e.g. -c retention.ms=3600000)\n"
          "  -X  librdkafka client property, repeatable\n"
          "  -t  overall timeout in milliseconds (default 30000)\n");
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parses a decimal int in [lo, hi]; returns 0 and sets *out, or -1. */
static int parse_int(int *out, const char *s, long lo, long hi) {
  char *end = NULL;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
    return -1;
  *out = (int)v;
  return 0;
}

/* Splits "key=value" into a kv entry that owns a copy; returns 0 or -1. */
static int parse_kv(gb_topics_kv_t *kv, int *cnt, const char *arg,
                    const char *what) {
  char *copy;
  char *eq;
  if (*cnt >= GB_TOPICS_MAX_KV) {
    fprintf(stderr, "gb-topics: too many %s options (max %d)\n", what,
            GB_TOPICS_MAX_KV);
    return -1;
  }
  eq = strchr(arg, '=');
  if (!eq || eq == arg) {
    fprintf(stderr, "gb-topics: %s wants key=value, got \"%s\"\n", what, arg);
    return -1;
  }
  copy = strdup(arg);
  if (!copy) {
    fprintf(stderr, "gb-topics: out of memory\n");
    return -1;
  }
  copy[eq - arg] = '\0';
  kv[*cnt].key = copy;
  kv[*cnt].value = copy + (eq - arg) + 1;
  (*cnt)++;
  return 0;
}

static void opts_free(gb_topics_opts_t *o) {
  int i;
  for (i = 0; i < o->topic_conf_cnt; i++)
    free(o->topic_conf[i].key);
  for (i = 0; i < o->client_conf_cnt; i++)
    free(o->client_conf[i].key);
}

/* Creates a client handle for `bootstrap` with the -X properties; on
 * failure returns NULL and says why on stderr. */
static rd_kafka_t *client_new(const gb_topics_opts_t *o, const char *bootstrap) {
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_t *rk;
  int i;

  for (i = 0; i < o->client_conf_cnt; i++) {
    if (rd_kafka_conf_set(conf, o->client_conf[i].key, o->client_conf[i].value,
                          errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
      goto fail;
  }
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                        sizeof(errstr)) != RD_KAFKA_CONF_OK)
    goto fail;
  /* An Admin client is a producer handle that never produces. */
  rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!rk)
    goto fail;
  conf = NULL; /* now owned by rk */
  return rk;

fail:
  fprintf(stderr, "gb-topics: client config: %s\n", errstr);
  rd_kafka_conf_destroy(conf);
  return NULL;
}

/* Returns the partition count of `topic` in `md` if it exists with a leader
 * for every partition, 0 if it is missing or not ready yet. */
static int topic_ready_partitions(const struct rd_kafka_metadata *md,
                                  const char *topic) {
  int i, p;
  for (i = 0; i < md->topic_cnt; i++) {
    const struct rd_kafka_metadata_topic *t = &md->topics[i];
    if (strcmp(t->topic, topic) != 0)
      continue;
    if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR || t->partition_cnt == 0)
      return 0;
    for (p = 0; p < t->partition_cnt; p++) {
      if (t->partitions[p].leader < 0 ||
          t->partitions[p].err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
        return 0;
    }
    return t->partition_cnt;
  }
  return 0;
}

/* Counts the topics that `md` does not show ready. */
static int topics_missing(const struct rd_kafka_metadata *md, char **topics,
                          int topic_cnt) {
  int i, missing = 0;
  for (i = 0; i < topic_cnt; i++)
    if (topic_ready_partitions(md, topics[i]) == 0)
      missing++;
  return missing;
}

/* Polls metadata on `rk` until it shows every topic ready, answered by broker
 * `want_broker` (or any broker if it is -1), or until the deadline. When
 * `brokers_out` is given, it receives a copy of the broker list (caller
 * frees each host and the array). Returns 0; 2 if `want_broker` cannot be
 * reached at all; or 1 after saying why. */
static int poll_topics_ready(rd_kafka_t *rk, const char *who, int32_t want_broker,
                             char **topics, int topic_cnt, int64_t deadline,
                             struct rd_kafka_metadata_broker **brokers_out,
                             int *broker_cnt_out) {
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  int i, missing = topic_cnt;

  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0)
      break;
    err = rd_kafka_metadata(rk, 1, NULL, &md, (int)(left < 5000 ? left : 5000));
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      missing = topics_missing(md, topics, topic_cnt);
      if (missing == 0 && (want_broker < 0 || md->orig_broker_id == want_broker)) {
        if (brokers_out) {
          *brokers_out = calloc((size_t)md->broker_cnt + 1, sizeof(**brokers_out));
          if (!*brokers_out) {
            rd_kafka_metadata_destroy(md);
            fprintf(stderr, "gb-topics: out of memory\n");
            return 1;
          }
          for (i = 0; i < md->broker_cnt; i++) {
            (*brokers_out)[i] = md->brokers[i];
            (*brokers_out)[i].host = strdup(md->brokers[i].host);
          }
          *broker_cnt_out = md->broker_cnt;
        }
        rd_kafka_metadata_destroy(md);
        return 0;
      }
      rd_kafka_metadata_destroy(md);
      md = NULL;
    } else if (want_broker >= 0 && (err == RD_KAFKA_RESP_ERR__TRANSPORT ||
                                    err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)) {
      return 2;
    }
    usleep(100 * 1000); /* metadata propagation takes milliseconds */
  }
  fprintf(stderr, "gb-topics: timed out waiting until %s shows leaders for all "
          "%d topic(s) (%d not ready)%s%s\n", who, topic_cnt, missing,
          err ? ": " : "", err ? rd_kafka_err2str(err) : "");
  return 1;
}

/* Waits until every broker's metadata shows each topic with a leader for
 * every partition. Each broker learns new topics from the metadata log on
 * its own schedule, and a client may ask any of them, so asking only one is
 * not enough. Each broker is asked through a client bootstrapped to it
 * alone, and the answer counts only if that broker gave it. A broker that
 * refuses connections (down, but not yet fenced by the controller) is
 * skipped with a note, since no client can ask it either. Returns 0 or 1. */
static int wait_topics_ready(rd_kafka_t *rk, const gb_topics_opts_t *o,
                             char **topics, int topic_cnt, int64_t deadline) {
  struct rd_kafka_metadata_broker *brokers = NULL;
  int broker_cnt = 0, i, rc;

  rc = poll_topics_ready(rk, o->bootstrap, -1, topics, topic_cnt, deadline,
                         &brokers, &broker_cnt);
  for (i = 0; rc == 0 && i < broker_cnt; i++) {
    char addr[300], who[320];
    rd_kafka_t *rkb;
    if (!brokers[i].host) {
      fprintf(stderr, "gb-topics: out of memory\n");
      rc = 1;
      break;
    }
    snprintf(addr, sizeof(addr), "%s:%d", brokers[i].host, brokers[i].port);
    snprintf(who, sizeof(who), "broker %d (%s)", (int)brokers[i].id, addr);
    rkb = client_new(o, addr);
    if (!rkb) {
      rc = 1;
      break;
    }
    rc = poll_topics_ready(rkb, who, brokers[i].id, topics, topic_cnt, deadline,
                           NULL, NULL);
    rd_kafka_destroy(rkb);
    if (rc == 2) {
      fprintf(stderr, "gb-topics: %s is unreachable; not waiting for it\n", who);
      rc = 0;
    }
  }
  for (i = 0; i < broker_cnt; i++)
    free(brokers[i].host);
  free(brokers);
  return rc;
}

static int cmd_create(rd_kafka_t *rk, const gb_topics_opts_t *o, char **topics,
                      int topic_cnt) {
  rd_kafka_NewTopic_t **nts = NULL;
  rd_kafka_AdminOptions_t *aopts = NULL;
  rd_kafka_queue_t *queue = NULL;
  rd_kafka_event_t *ev = NULL;
  const rd_kafka_CreateTopics_result_t *res;
  const rd_kafka_topic_result_t **results;
  int64_t deadline = now_ms() + o->timeout_ms;
  char errstr[512];
  size_t res_cnt = 0, r;
  int i, j, failed = 0, rc = 1;

  nts = calloc((size_t)topic_cnt, sizeof(*nts));
  if (!nts) {
    fprintf(stderr, "gb-topics: out of memory\n");
    goto cleanup;
  }
  for (i = 0; i < topic_cnt; i++) {
    nts[i] = rd_kafka_NewTopic_new(topics[i], o->partitions, o->replication,
                                   errstr, sizeof(errstr));
    if (!nts[i]) {
      fprintf(stderr, "gb-topics: topic %s: %s\n", topics[i], errstr);
      goto cleanup;
    }
    for (j = 0; j < o->topic_conf_cnt; j++) {
      rd_kafka_resp_err_t err = rd_kafka_NewTopic_set_config(
          nts[i], o->topic_conf[j].key, o->topic_conf[j].value);
      if (err) {
        fprintf(stderr, "gb-topics: topic %s: config %s: %s\n", topics[i],
                o->topic_conf[j].key, rd_kafka_err2str(err));
        goto cleanup;
      }
    }
  }

  aopts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  if (rd_kafka_AdminOptions_set_request_timeout(aopts, o->timeout_ms, errstr,
                                                sizeof(errstr)) ||
      rd_kafka_AdminOptions_set_operation_timeout(aopts, o->timeout_ms, errstr,
                                                  sizeof(errstr))) {
    fprintf(stderr, "gb-topics: admin options: %s\n", errstr);
    goto cleanup;
  }

  queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, nts, (size_t)topic_cnt, aopts, queue);
  /* The request timeout bounds the call; the margin covers the connect. */
  ev = rd_kafka_queue_poll(queue, o->timeout_ms + 5000);
  if (!ev) {
    fprintf(stderr, "gb-topics: no CreateTopics result from %s within %d ms\n",
            o->bootstrap, o->timeout_ms + 5000);
    goto cleanup;
  }
  if (rd_kafka_event_error(ev)) {
    fprintf(stderr, "gb-topics: CreateTopics via %s failed: %s\n", o->bootstrap,
            rd_kafka_event_error_string(ev));
    goto cleanup;
  }
  res = rd_kafka_event_CreateTopics_result(ev);
  if (!res) {
    fprintf(stderr, "gb-topics: unexpected event %s\n", rd_kafka_event_name(ev));
    goto cleanup;
  }
  results = rd_kafka_CreateTopics_result_topics(res, &res_cnt);
  for (r = 0; r < res_cnt; r++) {
    const char *name = rd_kafka_topic_result_name(results[r]);
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[r]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      fprintf(stderr, "created %s\n", name);
    } else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      fprintf(stderr, "exists %s\n", name);
    } else {
      const char *msg = rd_kafka_topic_result_error_string(results[r]);
      fprintf(stderr, "gb-topics: create %s failed: %s: %s\n", name,
              rd_kafka_err2name(err), msg ? msg : rd_kafka_err2str(err));
      failed++;
    }
  }
  if (failed)
    goto cleanup;
  if ((int)res_cnt != topic_cnt) {
    fprintf(stderr, "gb-topics: asked for %d topics, broker answered %zu\n",
            topic_cnt, res_cnt);
    goto cleanup;
  }
  rc = wait_topics_ready(rk, o, topics, topic_cnt, deadline);

cleanup:
  if (ev)
    rd_kafka_event_destroy(ev);
  if (queue)
    rd_kafka_queue_destroy(queue);
  if (aopts)
    rd_kafka_AdminOptions_destroy(aopts);
  if (nts) {
    for (i = 0; i < topic_cnt; i++)
      if (nts[i])
        rd_kafka_NewTopic_destroy(nts[i]);
    free(nts);
  }
  return rc;
}

static int cmp_topic(const void *a, const void *b) {
  const struct rd_kafka_metadata_topic *x = *(const struct rd_kafka_metadata_topic *const *)a;
  const struct rd_kafka_metadata_topic *y = *(const struct rd_kafka_metadata_topic *const *)b;
  return strcmp(x->topic, y->topic);
}

static int cmd_list(rd_kafka_t *rk, const gb_topics_opts_t *o) {
  const struct rd_kafka_metadata *md = NULL;
  const struct rd_kafka_metadata_topic **sorted = NULL;
  rd_kafka_resp_err_t err;
  int i;

  err = rd_kafka_metadata(rk, 1, NULL, &md, o->timeout_ms);
  if (err) {
    fprintf(stderr, "gb-topics: metadata from %s: %s\n", o->bootstrap,
            rd_kafka_err2str(err));
    return 1;
  }
  sorted = calloc((size_t)md->topic_cnt + 1, sizeof(*sorted));
  if (!sorted) {
    fprintf(stderr, "gb-topics: out of memory\n");
    rd_kafka_metadata_destroy(md);
    return 1;
  }
  for (i = 0; i < md->topic_cnt; i++)
    sorted[i] = &md->topics[i];
  qsort(sorted, (size_t)md->topic_cnt, sizeof(*sorted), cmp_topic);
  for (i = 0; i < md->topic_cnt; i++)
    printf("%s\t%d\n", sorted[i]->topic, sorted[i]->partition_cnt);
  free(sorted);
  rd_kafka_metadata_destroy(md);
  return fflush(stdout) == 0 ? 0 : 1;
}

/* Deletes the records of one partition before an offset, as retention does
 * when data ages out: a consumer whose committed offset is older then reads
 * "offset out of range". Operators use it to drop poison data; tests use it
 * to age data out on demand. */
static int cmd_delete_records(rd_kafka_t *rk, const gb_topics_opts_t *o, char **args) {
  int partition, before;
  if (parse_int(&partition, args[1], 0, INT_MAX) || parse_int(&before, args[2], 0, INT_MAX)) {
    fprintf(stderr, "gb-topics: delete-records wants TOPIC PARTITION BEFORE_OFFSET\n");
    return 2;
  }
  rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(offsets, args[0], partition)->offset = before;
  rd_kafka_DeleteRecords_t *del = rd_kafka_DeleteRecords_new(offsets);
  rd_kafka_topic_partition_list_destroy(offsets);
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DELETERECORDS);
  char errstr[256];
  rd_kafka_AdminOptions_set_operation_timeout(ao, o->timeout_ms, errstr, sizeof(errstr));
  rd_kafka_DeleteRecords(rk, &del, 1, ao, q);
  rd_kafka_event_t *ev = rd_kafka_queue_poll(q, o->timeout_ms + 5000);
  int rc = 1;
  if (!ev) {
    fprintf(stderr, "gb-topics: delete-records: no answer within %d ms\n", o->timeout_ms);
  } else if (rd_kafka_event_error(ev)) {
    fprintf(stderr, "gb-topics: delete-records: %s\n", rd_kafka_event_error_string(ev));
  } else {
    const rd_kafka_topic_partition_list_t *res =
        rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
    if (res && res->cnt == 1 && !res->elems[0].err) {
      fprintf(stderr, "deleted %s [%d] before offset %lld\n", args[0], partition,
              (long long)res->elems[0].offset);
      rc = 0;
    } else {
      fprintf(stderr, "gb-topics: delete-records: %s\n",
              res && res->cnt ? rd_kafka_err2str(res->elems[0].err) : "no result");
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(ao);
  rd_kafka_DeleteRecords_destroy(del);
  rd_kafka_queue_destroy(q);
  return rc;
}

/* The group's committed offsets and each partition's end, and the
 * difference (see the header comment). Returns 0, or 1 after saying why. */
static int cmd_lag(rd_kafka_t *rk, const gb_topics_opts_t *o, const char *group,
                   char **topics, int topic_cnt) {
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(16);
  rd_kafka_ListConsumerGroupOffsets_t *req = NULL;
  rd_kafka_AdminOptions_t *ao = NULL;
  rd_kafka_queue_t *q = NULL;
  rd_kafka_event_t *ev = NULL;
  char errstr[256];
  int i, p, rc = 1;

  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, o->timeout_ms);
  if (err) {
    fprintf(stderr, "gb-topics: metadata from %s: %s\n", o->bootstrap, rd_kafka_err2str(err));
    goto cleanup;
  }
  for (i = 0; i < topic_cnt; i++) {
    int n = topic_ready_partitions(md, topics[i]);
    if (n == 0) {
      fprintf(stderr, "gb-topics: topic %s is missing or has a partition without a leader\n",
              topics[i]);
      goto cleanup;
    }
    for (p = 0; p < n; p++)
      rd_kafka_topic_partition_list_add(parts, topics[i], p);
  }
  req = rd_kafka_ListConsumerGroupOffsets_new(group, parts);
  ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
  if (rd_kafka_AdminOptions_set_request_timeout(ao, o->timeout_ms, errstr, sizeof(errstr))) {
    fprintf(stderr, "gb-topics: admin options: %s\n", errstr);
    goto cleanup;
  }
  q = rd_kafka_queue_new(rk);
  rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, ao, q);
  ev = rd_kafka_queue_poll(q, o->timeout_ms + 5000);
  if (!ev || rd_kafka_event_error(ev)) {
    fprintf(stderr, "gb-topics: committed offsets of %s: %s\n", group,
            ev ? rd_kafka_event_error_string(ev) : "no answer");
    goto cleanup;
  }
  size_t ngroups = 0;
  const rd_kafka_group_result_t **groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
      rd_kafka_event_ListConsumerGroupOffsets_result(ev), &ngroups);
  const rd_kafka_error_t *gerr = ngroups == 1 ? rd_kafka_group_result_error(groups[0]) : NULL;
  if (ngroups != 1 || gerr) {
    fprintf(stderr, "gb-topics: committed offsets of %s: %s\n", group,
            gerr ? rd_kafka_error_string(gerr) : "no result");
    goto cleanup;
  }
  const rd_kafka_topic_partition_list_t *committed = rd_kafka_group_result_partitions(groups[0]);
  for (i = 0; i < parts->cnt; i++) {
    const rd_kafka_topic_partition_t *tp = &parts->elems[i];
    const rd_kafka_topic_partition_t *c =
        committed ? rd_kafka_topic_partition_list_find(committed, tp->topic, tp->partition) : NULL;
    int64_t lo = 0, hi = 0;
    err = rd_kafka_query_watermark_offsets(rk, tp->topic, tp->partition, &lo, &hi, o->timeout_ms);
    if (err || (c && c->err)) {
      fprintf(stderr, "gb-topics: %s [%d]: %s\n", tp->topic, (int)tp->partition,
              rd_kafka_err2str(err ? err : c->err));
      goto cleanup;
    }
    if (c && c->offset >= 0)
      printf("%s\t%d\t%lld\t%lld\t%lld\n", tp->topic, (int)tp->partition, (long long)c->offset,
             (long long)hi, (long long)(hi > c->offset ? hi - c->offset : 0));
    else
      printf("%s\t%d\t-\t%lld\t%lld\n", tp->topic, (int)tp->partition, (long long)hi,
             (long long)(hi - lo));
  }
  rc = fflush(stdout) == 0 ? 0 : 1;

cleanup:
  if (ev) rd_kafka_event_destroy(ev);
  if (q) rd_kafka_queue_destroy(q);
  if (ao) rd_kafka_AdminOptions_destroy(ao);
  if (req) rd_kafka_ListConsumerGroupOffsets_destroy(req);
  if (md) rd_kafka_metadata_destroy(md);
  rd_kafka_topic_partition_list_destroy(parts);
  return rc;
}

int main(int argc, char **argv) {
  gb_topics_opts_t o;
  rd_kafka_t *rk = NULL;
  const char *cmd;
  int opt, rc = 2;

  memset(&o, 0, sizeof(o));
  o.partitions = -1;
  o.replication = -1;
  o.timeout_ms = 30000;

  while ((opt = getopt(argc, argv, "b:p:r:c:X:t:h")) != -1) {
    switch (opt) {
    case 'b':
      o.bootstrap = optarg;
      break;
    case 'p':
      if (parse_int(&o.partitions, optarg, -1, 100000) || o.partitions == 0) {
        fprintf(stderr, "gb-topics: -p wants -1 or 1..100000, got \"%s\"\n", optarg);
        goto done;
      }
      break;
    case 'r':
      if (parse_int(&o.replication, optarg, -1, 32767) || o.replication == 0) {
        fprintf(stderr, "gb-topics: -r wants -1 or 1..32767, got \"%s\"\n", optarg);
        goto done;
      }
      break;
    case 'c':
      if (parse_kv(o.topic_conf, &o.topic_conf_cnt, optarg, "-c"))
        goto done;
      break;
    case 'X':
      if (parse_kv(o.client_conf, &o.client_conf_cnt, optarg, "-X"))
        goto done;
      break;
    case 't':
      if (parse_int(&o.timeout_ms, optarg, 1, INT_MAX - 5000)) {
        fprintf(stderr, "gb-topics: -t wants milliseconds > 0, got \"%s\"\n", optarg);
        goto done;
      }
      break;
    case 'h':
      usage(stdout);
      rc = 0;
      goto done;
    default:
      usage(stderr);
      goto done;
    }
  }
  if (!o.bootstrap || optind >= argc) {
    usage(stderr);
    goto done;
  }
  cmd = argv[optind++];
  if (strcmp(cmd, "create") == 0) {
    if (optind >= argc) {
      fprintf(stderr, "gb-topics: create needs at least one topic\n");
      goto done;
    }
  } else if (strcmp(cmd, "list") == 0) {
    if (optind != argc) {
      fprintf(stderr, "gb-topics: list takes no arguments\n");
      goto done;
    }
  } else if (strcmp(cmd, "delete-records") == 0) {
    if (argc - optind != 3) {
      fprintf(stderr, "gb-topics: delete-records wants TOPIC PARTITION BEFORE_OFFSET\n");
      goto done;
    }
  } else if (strcmp(cmd, "lag") == 0) {
    if (argc - optind < 2) {
      fprintf(stderr, "gb-topics: lag wants GROUP TOPIC...\n");
      goto done;
    }
  } else {
    fprintf(stderr, "gb-topics: unknown command \"%s\" (create, list, delete-records, lag)\n", cmd);
    goto done;
  }

  rk = client_new(&o, o.bootstrap);
  if (!rk) {
    rc = 1;
    goto done;
  }
  if (strcmp(cmd, "create") == 0)
    rc = cmd_create(rk, &o, argv + optind, argc - optind);
  else if (strcmp(cmd, "delete-records") == 0)
    rc = cmd_delete_records(rk, &o, argv + optind);
  else if (strcmp(cmd, "lag") == 0)
    rc = cmd_lag(rk, &o, argv[optind], argv + optind + 1, argc - optind - 1);
  else
    rc = cmd_list(rk, &o);

done:
  if (rk)
    rd_kafka_destroy(rk);
  opts_free(&o);
  return rc;
}
