/*
 * librdkafka (C, Debian's librdkafka-dev) over a cluster, the workload of
 * bench/cluster_produce.ts: 1 KiB records to a 6-partition topic, partitions round robin in
 * runs of 100 records, batch.num.messages 100, linger.ms 1, acks 1 or -1, no compression. A
 * closed loop keeps 12 x 100 records outstanding (the other clients' 12 requests of 100).
 * Latency is per record, produce() to delivery report. CPU per record is the process's user +
 * system time (every librdkafka thread), warm-up included, over every record delivered.
 * The topic is created by the caller (bench/cluster_run.sh) with the other clients' settings.
 *
 * Build: cc -O2 -o rdkafka_cluster_produce bench/rdkafka_cluster_produce.c -lrdkafka
 * Usage: rdkafka_cluster_produce BOOTSTRAP ACKS TOPIC SECONDS
 */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define PARTITIONS 6
#define RECORDS_PER_BATCH 100
#define RECORD_BYTES 1024
#define OUTSTANDING (12 * RECORDS_PER_BATCH)
#define MAX_SAMPLES 20000000

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static long outstanding = 0, delivered = 0, failed = 0;
static double measure_from = 0, measure_to = 0;
static float *samples;
static long nsamples = 0;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  outstanding--;
  if (m->err) {
    failed++;
    return;
  }
  delivered++;
  double sent = *(double *)m->_private;
  double t = now_us();
  if (sent >= measure_from && sent < measure_to && nsamples < MAX_SAMPLES) {
    samples[nsamples++] = (float)(t - sent);
  }
  free(m->_private);
}

static int cmp(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

static double cpu_us(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_sec * 1e6 +
         u.ru_stime.tv_usec;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s BOOTSTRAP ACKS TOPIC SECONDS\n", argv[0]);
    return 2;
  }
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  const char *settings[][2] = {
      {"bootstrap.servers", argv[1]}, {"acks", argv[2]},          {"compression.type", "none"},
      {"linger.ms", "1"},             {"batch.num.messages", "100"},
      {"max.in.flight", "5"},         {"client.id", "bench-cluster-rdkafka"},
  };
  for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
    if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
      fprintf(stderr, "%s\n", err);
      return 1;
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  rd_kafka_topic_t *topic = rd_kafka_topic_new(rk, argv[3], NULL);
  samples = malloc(sizeof(float) * MAX_SAMPLES);
  char *value = malloc(RECORD_BYTES);
  memset(value, 120, RECORD_BYTES);
  double seconds = atof(argv[4]);
  double cpu0 = cpu_us();
  double start = now_us();
  measure_from = start + 1e6;
  measure_to = measure_from + seconds * 1e6;
  long produced = 0;
  while (now_us() < measure_to) {
    while (outstanding < OUTSTANDING) {
      double *sent = malloc(sizeof(double));
      *sent = now_us();
      int partition = (int)((produced / RECORDS_PER_BATCH) % PARTITIONS);
      if (rd_kafka_produce(topic, partition, RD_KAFKA_MSG_F_COPY, value, RECORD_BYTES, NULL, 0,
                           sent) != 0) {
        free(sent);
        break;
      }
      outstanding++;
      produced++;
    }
    rd_kafka_poll(rk, 1);
  }
  while (outstanding > 0) rd_kafka_poll(rk, 10);
  double cpu = cpu_us() - cpu0;
  long measured = nsamples;
  qsort(samples, (size_t)nsamples, sizeof(float), cmp);
  double p50 = nsamples ? samples[(long)(nsamples * 0.5)] : 0;
  double p99 = nsamples ? samples[(long)(nsamples * 0.99)] : 0;
  printf("{\"client\":\"librdkafka\",\"runtime\":\"C (librdkafka %s)\",\"acks\":%s,"
         "\"records\":%ld,\"seconds\":%.1f,\"recordsPerSec\":%.0f,\"mbPerSec\":%.1f,"
         "\"p50Us\":%.0f,\"p99Us\":%.0f,\"latencyOf\":\"record (produce() to delivery)\","
         "\"cpuUsPerRecord\":%.2f,\"errors\":%ld}\n",
         rd_kafka_version_str(), argv[2], measured, seconds, measured / seconds,
         measured * RECORD_BYTES / seconds / 1e6, p50, p99, cpu / (double)delivered, failed);
  rd_kafka_topic_destroy(topic);
  rd_kafka_destroy(rk);
  return 0;
}
