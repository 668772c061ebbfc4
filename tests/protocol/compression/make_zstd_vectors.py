#!/usr/bin/env python3
"""Regenerates the zstd test vectors in zstd_vectors/ with Debian's `zstd` CLI.

Usage: python3 tests/protocol/compression/make_zstd_vectors.py   (needs `apt-get install zstd`)

Every input is made here from a seeded generator, compressed by the CLI with the options in
CASES, and recorded in zstd_vectors/manifest.json with its size and SHA-256, so the tests need
neither the inputs nor the CLI.
"""
import hashlib
import json
import os
import random
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "zstd_vectors")
WORDS = ["alpha", "beta", "gamma", "delta", "order", "customer", "price", "quantity",
         "status", "shipped", "pending", "created", "region", "eu-west", "us-east"]


def json_records(rng, size):
    parts, total, i = [], 0, 0
    while total < size:
        rec = json.dumps({
            "id": i, "customer": "cust-%05d" % rng.randint(0, 50000),
            "status": rng.choice(WORDS), "price": round(rng.random() * 1000, 2),
            "items": [{"sku": "SKU%06d" % rng.randint(0, 999999), "q": rng.randint(1, 9)}
                      for _ in range(rng.randint(1, 4))],
            "note": " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30))),
        })
        parts.append(rec)
        total += len(rec) + 1
        i += 1
    return ("\n".join(parts).encode())[:size]


def mixed(rng, size):
    out = bytearray()
    while len(out) < size:
        kind = rng.random()
        if kind < 0.75:
            out += json_records(rng, rng.randint(200, 20000))
        elif kind < 0.85:
            out += bytes([rng.randint(0, 255)]) * rng.randint(1, 5000)
        elif kind < 0.95 and len(out) > 1000:
            start = rng.randint(0, len(out) - 500)
            out += out[start:start + rng.randint(3, 500)]
        else:
            out += rng.randbytes(rng.randint(1, 2000))
    return bytes(out[:size])


def long_distance(rng, chunk_size, filler_mib):
    chunk = rng.randbytes(chunk_size)
    filler = b"".join(bytes([i % 251]) * 4096 for i in range(filler_mib * 256))  # RLE-friendly
    return chunk + filler + chunk


def inputs():
    rng = random.Random(8878)
    return {
        "empty": b"",
        "one": b"x",
        "json1k": json_records(rng, 1024),
        "mixed1m": mixed(rng, 1 << 20),
        "repetitive": b"kafka-wire " * 30000 + bytes(200000),
        "random64k": rng.randbytes(64 * 1024),
        "long": long_distance(rng, 32 * 1024, 9),
        # A match 34 MiB back: offset codes above 24 bits.
        "far": long_distance(rng, 8 * 1024, 34),
    }


# name, input, zstd options
CASES = [
    ("empty", "empty", ["-3"]),
    ("empty-nocheck", "empty", ["-3", "--no-check"]),
    ("one", "one", ["-3"]),
    ("one-nosize", "one", ["-3", "--no-content-size"]),
    *[(f"json1k-{lvl}", "json1k", [f"-{lvl}"]) for lvl in (1, 3, 9, 19)],
    ("json1k-3-nocheck-nosize", "json1k", ["-3", "--no-check", "--no-content-size"]),
    *[(f"mixed1m-{lvl}", "mixed1m", [f"-{lvl}"]) for lvl in (1, 3, 9, 19)],
    ("mixed1m-3-nocheck-nosize", "mixed1m", ["-3", "--no-check", "--no-content-size"]),
    ("repetitive-3", "repetitive", ["-3"]),
    ("repetitive-19-nocheck", "repetitive", ["-19", "--no-check"]),
    ("random64k-3", "random64k", ["-3"]),
    ("long-24", "long", ["-3", "--long=24"]),
    ("long-24-nosize", "long", ["-3", "--long=24", "--no-content-size"]),
    ("far-26", "far", ["-3", "--long=26", "--no-check"]),
]


def dictionary_cases(data):
    """Frames that need a dictionary: one trained (with an ID), one of raw content (no ID)."""
    rng = random.Random(12)
    with tempfile.TemporaryDirectory() as tmp:
        samples = []
        for i in range(200):
            path = os.path.join(tmp, "s%d" % i)
            with open(path, "wb") as f:
                f.write(json_records(rng, 1024))
            samples.append(path)
        trained = os.path.join(tmp, "trained.dict")
        subprocess.run(["zstd", "-q", "--train", *samples, "--maxdict=4096", "-o", trained],
                       check=True)
        raw_dict = os.path.join(tmp, "raw.dict")
        with open(raw_dict, "wb") as f:
            f.write(data["json1k"][:512] * 4)
        for name, dictionary in (("json1k-dict", trained), ("json1k-rawdict", raw_dict)):
            out = subprocess.run(["zstd", "-q", "-c", "-3", "-D", dictionary],
                                 input=data["json1k"], capture_output=True, check=True).stdout
            with open(os.path.join(OUT, name + ".zst"), "wb") as f:
                f.write(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    data = inputs()
    version = subprocess.run(["zstd", "--version"], capture_output=True, text=True).stdout.strip()
    manifest = {"generator": "tests/protocol/compression/make_zstd_vectors.py", "zstd": version,
                "vectors": []}
    for name, source, options in CASES:
        raw = data[source]
        opts = options
        if "--no-content-size" in options:
            # Piped, as a stream: no content size, and the level's full window.
            options = [o for o in options if o != "--no-content-size"]
            compressed = subprocess.run(["zstd", "-q", "-c", *options], input=raw,
                                        capture_output=True, check=True).stdout
        else:
            # From a file: the content size is in the header, the window fits the input.
            with tempfile.NamedTemporaryFile() as f:
                f.write(raw)
                f.flush()
                compressed = subprocess.run(["zstd", "-q", "-c", *options, f.name],
                                            capture_output=True, check=True).stdout
        with open(os.path.join(OUT, name + ".zst"), "wb") as f:
            f.write(compressed)
        manifest["vectors"].append({
            "file": name + ".zst", "input": source, "options": opts, "size": len(raw),
            "sha256": hashlib.sha256(raw).hexdigest(),
        })
    dictionary_cases(data)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


main()
