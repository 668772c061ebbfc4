import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { Fifo } from "../../transport/fifo.ts";

test("Fifo keeps order across its compactions while the backlog never drains", () => {
  const fifo = new Fifo<number>();
  const seen: number[] = [];
  let next = 0;
  for (; next < 100; next++) fifo.push(next);
  for (let i = 0; i < 5000; i++) {
    fifo.push(next++);
    seen.push(fifo.shift()!);
    assert.equal(fifo.length, 100);
  }
  assert.equal(fifo.peek(), seen.length);
  assert.equal(fifo.at(99), next - 1);
  assert.equal(fifo.at(100), undefined);
  seen.push(...fifo.drain());
  assert.deepEqual(seen, Array.from({ length: next }, (_, i) => i));
  assert.equal(fifo.length, 0);
  assert.equal(fifo.shift(), undefined);
  assert.equal(fifo.peek(), undefined);
});

test("Fifo.retain() keeps the accepted items in order", () => {
  const fifo = new Fifo<number>();
  for (let i = 0; i < 10; i++) fifo.push(i);
  fifo.shift();
  fifo.retain((n) => n % 3 === 0);
  assert.deepEqual(fifo.drain(), [3, 6, 9]);
});
