/*
 * librdkafka consumer for the consume benchmark, driven from C: assigns one partition from
 * offset 0 (no consumer group) and polls until it has read --records records. Prints one JSON
 * line: MB/s of record values, records/s and client CPU time per record (getrusage, user +
 * system, from the first record to the last). librdkafka's defaults otherwise (it prefetches:
 * the next fetch is in flight while the application polls); --check-crcs true|false.
 *
 * Build: cc -O2 -o rdkafka_consume bench/c/rdkafka_consume.c -lrdkafka
 * Usage: rdkafka_consume --bootstrap H:P --topic T --records N [--check-crcs false]
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static const char *arg(int argc, char **argv, const char *name, const char *dflt) {
  for (int i = 1; i + 1 < argc; i += 2)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return dflt;
}

int main(int argc, char **argv) {
  const char *bootstrap = arg(argc, argv, "--bootstrap", NULL);
  const char *topic = arg(argc, argv, "--topic", "bench-consume");
  const char *crcs = arg(argc, argv, "--check-crcs", "false");
  long want = atol(arg(argc, argv, "--records", "1000000"));
  double limit_s = atof(arg(argc, argv, "--timeout", "120"));
  if (!bootstrap) {
    fprintf(stderr, "usage: %s --bootstrap H:P --topic T --records N\n", argv[0]);
    return 2;
  }
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  const char *kv[][2] = {{"bootstrap.servers", bootstrap},
                         {"group.id", "bench-consume-unused"},
                         {"enable.auto.commit", "false"},
                         {"check.crcs", crcs}};
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
    if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
      fprintf(stderr, "config %s: %s\n", kv[i][0], err);
      return 1;
    }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 1;
  }
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = 0;
  rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts);
  if (e) {
    fprintf(stderr, "assign: %s\n", rd_kafka_err2str(e));
    return 1;
  }
  long got = 0, bytes = 0;
  double start = 0, cpu0 = 0, deadline = now_s() + limit_s;
  while (got < want && now_s() < deadline) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        fprintf(stderr, "consume: %s\n", rd_kafka_message_errstr(m));
      rd_kafka_message_destroy(m);
      continue;
    }
    if (got == 0) {
      start = now_s();
      cpu0 = cpu_s();
    }
    got++;
    bytes += (long)m->len;
    rd_kafka_message_destroy(m);
  }
  double elapsed = now_s() - start, cpu = cpu_s() - cpu0;
  if (got < want) fprintf(stderr, "only %ld of %ld records before the timeout\n", got, want);
  printf("{\"client\":\"librdkafka\",\"runtime\":\"c (librdkafka %s)\",\"topic\":\"%s\","
         "\"checkCrcs\":%s,"
         "\"records\":%ld,\"seconds\":%.3f,\"recordsPerSec\":%.0f,\"mbPerSec\":%.1f,"
         "\"cpuUsPerRecord\":%.2f}\n",
         rd_kafka_version_str(), topic, crcs, got, elapsed, got / elapsed, bytes / elapsed / 1e6,
         got ? cpu * 1e6 / got : 0);
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return got < want;
}
