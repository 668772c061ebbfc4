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

test("Fifo reuses its slots once emptied and keeps order doing so", () => {
  const fifo = new Fifo<number>();
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 10; i++) fifo.push(round * 10 + i);
    assert.equal(fifo.length, 10);
    assert.equal(fifo.at(9), round * 10 + 9);
    assert.equal(fifo.at(10), undefined, "a spare slot is not an item");
    const out: number[] = [];
    for (let x = fifo.shift(); x !== undefined; x = fifo.shift()) out.push(x);
    assert.deepEqual(out, Array.from({ length: 10 }, (_, i) => round * 10 + i));
    assert.equal(fifo.peek(), undefined);
  }
  fifo.push(1);
  fifo.push(2);
  fifo.retain((x) => x === 2);
  fifo.push(3);
  assert.deepEqual(fifo.drain(), [2, 3]);
});
