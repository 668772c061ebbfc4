/**
 * The raw-socket ceiling: the least work a Kafka client can do per round trip. It writes
 * pre-encoded request frames, counts reply frames by their size prefixes (no decoding), and
 * refills the pipeline with one write per batch of replies. Each runtime's raw benchmark wires
 * this to its native socket API.
 *
 * @module
 */

import { LatencyRecorder, round } from "./latency.mjs";

/**
 * An ApiVersions v0 request frame with client id "bench", optionally padded to `frameBytes`
 * with a trailing body the responder ignores.
 *
 * @param {number} correlationId
 * @param {number} frameBytes Total frame size including the 4-byte prefix (minimum 23).
 * @returns {Uint8Array}
 */
export function apiVersionsFrame(correlationId, frameBytes = 0) {
  const header = [0, 18, 0, 0, 0, 0, 0, 0, 0, 5, ...new TextEncoder().encode("bench")];
  const size = Math.max(header.length, frameBytes - 4);
  const f = new Uint8Array(4 + size);
  const v = new DataView(f.buffer);
  v.setInt32(0, size);
  f.set(header, 4);
  v.setInt32(8, correlationId);
  return f;
}

/**
 * Drives a closed loop of `inflight` outstanding requests for `seconds` over one socket.
 *
 * @param {{ inflight: number, seconds: number, frameBytes?: number,
 *           write: (bytes: Uint8Array) => void }} o `write` sends bytes (queueing is the
 *           runtime's); feed every received chunk to the returned `onData`.
 * @returns {{ onData: (chunk: Uint8Array) => void, start: () => void,
 *             done: Promise<{ requests: number, seconds: number, reqPerSec: number, mbPerSec: number, p50Us: number, p99Us: number, maxUs: number }> }}
 */
export function rawPipeline({ inflight, seconds, frameBytes = 0, write }) {
  const frame = apiVersionsFrame(0, frameBytes);
  const batch = new Uint8Array(frame.length * inflight);
  for (let i = 0; i < inflight; i++) batch.set(frame, i * frame.length);
  const sentAt = new Float64Array(inflight + 1);
  let head = 0; // FIFO of send times (ring buffer of size inflight + 1)
  let tail = 0;
  const rec = new LatencyRecorder();
  let warm = true;
  let startedAt = 0;
  let endAt = 0;
  let outstanding = 0;
  let need = 0; // bytes left of the current reply (prefix or body)
  let inPrefix = true;
  let sizeAcc = 0;
  let sizeBytes = 0;
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));

  const send = (n) => {
    const now = performance.now();
    for (let i = 0; i < n; i++) {
      sentAt[tail] = now;
      tail = tail === inflight ? 0 : tail + 1;
    }
    outstanding += n;
    write(batch.subarray(0, n * frame.length));
  };

  const finish = () => {
    const elapsed = (performance.now() - startedAt) / 1000;
    resolveDone({
      requests: rec.count,
      seconds: round(elapsed),
      reqPerSec: Math.round(rec.count / elapsed),
      mbPerSec: round((rec.count * frame.length) / elapsed / 1e6),
      ...rec.summary(),
    });
  };

  const onData = (chunk) => {
    let completed = 0;
    let i = 0;
    const len = chunk.length;
    while (i < len) {
      if (inPrefix) {
        sizeAcc = (sizeAcc << 8) | chunk[i++];
        if (++sizeBytes === 4) {
          need = sizeAcc;
          inPrefix = false;
          sizeAcc = 0;
          sizeBytes = 0;
        }
      } else {
        const take = Math.min(need, len - i);
        i += take;
        need -= take;
      }
      if (!inPrefix && need === 0) {
        inPrefix = true;
        completed++;
      }
    }
    if (completed === 0) return;
    const now = performance.now();
    for (let k = 0; k < completed; k++) {
      if (!warm) rec.record((now - sentAt[head]) * 1000);
      head = head === inflight ? 0 : head + 1;
    }
    outstanding -= completed;
    if (warm && now >= startedAt) {
      warm = false;
      startedAt = now;
      endAt = now + seconds * 1000;
    }
    if (now < endAt || warm) send(completed);
    else if (outstanding === 0) finish();
  };

  const start = () => {
    startedAt = performance.now() + 1000; // one second of warm-up first
    endAt = startedAt + seconds * 1000;
    send(inflight);
  };
  return { onData, start, done };
}
