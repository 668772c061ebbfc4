"""librdkafka (Debian's python3-confluent-kafka) against the real broker, the same workload as
bench/produce.ts: topic bench-produce, 1 KiB records, acks=1, no compression, batches of 100
(batch.num.messages) and max.in.flight 5. librdkafka batches by itself, so the loop keeps
5 x 100 records outstanding (a closed loop like the other clients). Latency is per record,
produce() to delivery report.

Usage: /usr/bin/python3 bench/librdkafka_produce.py --host H --port P [--seconds S]
"""
import argparse
import json
import time

from confluent_kafka import Producer

RECORDS_PER_BATCH = 100
RECORD_BYTES = 1024
INFLIGHT = 5

ap = argparse.ArgumentParser()
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", required=True)
ap.add_argument("--seconds", type=float, default=5)
ap.add_argument("--topic", default="bench-produce")
args = ap.parse_args()

p = Producer({
    "bootstrap.servers": f"{args.host}:{args.port}",
    "acks": 1,
    "compression.type": "none",
    "linger.ms": 1,
    "batch.num.messages": RECORDS_PER_BATCH,
    "max.in.flight.requests.per.connection": INFLIGHT,
    "enable.idempotence": False,
    "queue.buffering.max.messages": 100000,
})
value = b"x" * RECORD_BYTES
limit = RECORDS_PER_BATCH * INFLIGHT
state = {"outstanding": 0, "done": 0, "errors": 0, "measure": False}
lat = []


def on_delivery(err, msg):
    state["outstanding"] -= 1
    if err is not None:
        state["errors"] += 1
        return
    if state["measure"]:
        state["done"] += 1
        lat.append(msg.latency())


def run(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        while state["outstanding"] < limit:
            p.produce(args.topic, value, on_delivery=on_delivery)
            state["outstanding"] += 1
        p.poll(0.0005)


run(1.0)  # warm-up: connection, metadata, leader
state["measure"] = True
start = time.perf_counter()
run(args.seconds)
state["measure"] = False
elapsed = time.perf_counter() - start
p.flush(30)
lat.sort()


def pct(q):
    return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1e6, 1) if lat else 0


print(json.dumps({
    "client": "librdkafka",
    "runtime": "python3-confluent-kafka",
    "requests": None,
    "seconds": round(elapsed, 1),
    "recordsPerSec": round(state["done"] / elapsed),
    "mbPerSec": round(state["done"] * RECORD_BYTES / elapsed / 1e6, 1),
    "p50Us": pct(0.5),
    "p99Us": pct(0.99),
    "latencyOf": "record (produce() to delivery)",
    "errors": state["errors"],
}))
