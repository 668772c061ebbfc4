#!/usr/bin/env python3
"""Makes the zstd decoder benchmark's input: 1 KiB JSON-like records batched into frames.

Usage: python3 bench/zstd_data.py OUT_DIR   (needs the zstd CLI; bench/zstd.sh calls it)

For each case missing there it writes OUT_DIR/<case>.bin: a sequence of [u32 LE length][zstd frame]
entries. Frames are compressed as streams (no content size, no checksum unless the case
says so), the way Kafka producers write them.
"""
import json
import os
import random
import struct
import subprocess
import sys

WORDS = ["alpha", "beta", "gamma", "delta", "order", "customer", "price", "quantity",
         "status", "shipped", "pending", "created", "region", "eu-west", "us-east"]


def record(rng, i):
    rec = {"id": i, "ts": 1764547200000 + i * 7, "customer": "cust-%06d" % rng.randint(0, 10**6),
           "status": rng.choice(WORDS), "price": round(rng.random() * 1000, 2),
           "items": [], "note": ""}
    while len(json.dumps(rec)) < 1000:
        rec["items"].append({"sku": "SKU%06d" % rng.randint(0, 999999), "q": rng.randint(1, 9),
                             "tag": rng.choice(WORDS)})
    rec["note"] = "x" * (1024 - len(json.dumps(rec)))
    return json.dumps(rec).encode()[:1024]


# case name, uncompressed bytes per frame, frames, zstd options
CASES = [
    ("16k-l3", 16 * 1024, 256, ["-3"]),
    ("64k-l3", 64 * 1024, 64, ["-3"]),
    ("256k-l3", 256 * 1024, 16, ["-3"]),
    ("1m-l1", 1024 * 1024, 4, ["-1"]),
    ("1m-l3", 1024 * 1024, 4, ["-3"]),
    ("1m-l19", 1024 * 1024, 4, ["-19"]),
    ("1m-l3-checksum", 1024 * 1024, 4, ["-3", "--check"]),
    ("16m-l3", 16 * 1024 * 1024, 1, ["-3"]),
]


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for name, frame_size, frames, options in CASES:
        path = os.path.join(out_dir, name + ".bin")
        if os.path.exists(path):
            continue
        rng = random.Random(name)
        with open(path, "wb") as f:
            i = 0
            for _ in range(frames):
                parts = []
                for _ in range(frame_size // 1024):
                    parts.append(record(rng, i))
                    i += 1
                raw = b"".join(parts)
                z = subprocess.run(["zstd", "-q", "-c", "--no-check", *options], input=raw,
                                   capture_output=True, check=True).stdout
                f.write(struct.pack("<I", len(z)) + z)


main()
