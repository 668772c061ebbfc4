/*
 * librdkafka producer for the produce benchmarks, driven from C so that the figures show
 * librdkafka itself and not a binding's per-record cost.
 *
 * Workload: 1 KiB records (value only), --compression (default none), batch.num.messages=100,
 * max.in.flight=5, idempotence off; a closed loop keeps 5 x 100 records per partition
 * outstanding, as the other clients do. Records go round-robin over the partitions.
 * Prints one JSON line: MB/s of record values, records/s, per-record latency (produce() to
 * delivery report) p50/p99, and client CPU time per record (getrusage, user + system).
 *
 * Build: cc -O2 -o rdkafka_produce bench/c/rdkafka_produce.c -lrdkafka
 * Usage: rdkafka_produce --bootstrap H:P --topic T [--partitions N] [--acks 1|all]
 *                        [--seconds S] [--compression none|lz4|snappy|zstd|gzip]
 */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define RECORD_BYTES 1024
#define RECORDS_PER_BATCH 100
#define INFLIGHT 5

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

static long outstanding, done, errors;
static int measuring;
static double *lat;
static long lat_n, lat_cap;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  outstanding--;
  if (m->err) {
    errors++;
    return;
  }
  if (!measuring) return;
  done++;
  double sent = *(double *)m->_private;
  if (lat_n == lat_cap) {
    lat_cap = lat_cap ? lat_cap * 2 : 1 << 20;
    lat = realloc(lat, lat_cap * sizeof *lat);
  }
  lat[lat_n++] = (now_s() - sent) * 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static const char *arg(int argc, char **argv, const char *name, const char *dflt) {
  for (int i = 1; i + 1 < argc; i += 2)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return dflt;
}

int main(int argc, char **argv) {
  const char *bootstrap = arg(argc, argv, "--bootstrap", NULL);
  const char *topic = arg(argc, argv, "--topic", "bench-produce");
  const char *acks = arg(argc, argv, "--acks", "1");
  const char *compression = arg(argc, argv, "--compression", "none");
  int partitions = atoi(arg(argc, argv, "--partitions", "1"));
  double seconds = atof(arg(argc, argv, "--seconds", "5"));
  if (!bootstrap) {
    fprintf(stderr, "usage: %s --bootstrap H:P [--topic T] [--partitions N] [--acks 1|all]\n",
            argv[0]);
    return 2;
  }
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  char inflight[16], batch[16];
  snprintf(inflight, sizeof inflight, "%d", INFLIGHT);
  snprintf(batch, sizeof batch, "%d", RECORDS_PER_BATCH);
  const char *kv[][2] = {
      {"bootstrap.servers", bootstrap}, {"acks", acks}, {"compression.type", compression},
      {"linger.ms", "1"}, {"batch.num.messages", batch},
      {"max.in.flight.requests.per.connection", inflight}, {"enable.idempotence", "false"},
      {"queue.buffering.max.messages", "1000000"}};
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
    if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
      fprintf(stderr, "config %s: %s\n", kv[i][0], err);
      return 1;
    }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 1;
  }
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  char *value = malloc(RECORD_BYTES);
  memset(value, 'x', RECORD_BYTES);
  long limit = (long)RECORDS_PER_BATCH * INFLIGHT * partitions;
  /* Send times live in a ring as large as the most records outstanding. */
  double *sent = calloc(limit + 1, sizeof *sent);
  long slot = 0, next_partition = 0;

  double warm_end = now_s() + 1, start = 0, cpu0 = 0, end = 0;
  for (;;) {
    double t = now_s();
    if (!measuring && t >= warm_end) {
      measuring = 1;
      start = t;
      cpu0 = cpu_s();
      end = start + seconds;
    }
    if (measuring && t >= end) break;
    while (outstanding < limit) {
      sent[slot] = now_s();
      if (rd_kafka_produce(rkt, (int32_t)(next_partition++ % partitions), 0, value,
                           RECORD_BYTES, NULL, 0, &sent[slot]) != 0) {
        break;
      }
      slot = (slot + 1) % (limit + 1);
      outstanding++;
    }
    rd_kafka_poll(rk, 1);
  }
  double elapsed = now_s() - start, cpu = cpu_s() - cpu0;
  long measured = done;
  rd_kafka_flush(rk, 30000);
  qsort(lat, lat_n, sizeof *lat, cmp);
  double p50 = lat_n ? lat[lat_n / 2] : 0, p99 = lat_n ? lat[(long)(lat_n * 0.99)] : 0;
  printf("{\"client\":\"librdkafka\",\"runtime\":\"c (librdkafka %s)\",\"acks\":\"%s\","
         "\"compression\":\"%s\","
         "\"partitions\":%d,\"seconds\":%.2f,\"recordsPerSec\":%.0f,\"mbPerSec\":%.1f,"
         "\"p50Us\":%.0f,\"p99Us\":%.0f,\"latencyOf\":\"record (produce() to delivery)\","
         "\"cpuUsPerRecord\":%.2f,\"errors\":%ld}\n",
         rd_kafka_version_str(), acks, compression, partitions, elapsed, measured / elapsed,
         measured * (double)RECORD_BYTES / elapsed / 1e6, p50, p99,
         measured ? cpu * 1e6 / measured : 0, errors);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return 0;
}
