/**
 * librdkafka's "any usable broker" rule: a broker must be UP; learned brokers beat bootstrap
 * entries; among those the most recently used wins (so idle connections stay idle and can be
 * reaped); ties are broken at random.
 *
 * @module
 */

import type { Random } from "../transport/clock.ts";
import type { BrokerNode } from "./broker_node.ts";

/** The pick, and the order to dial in when nothing is UP. */
export interface BrokerSelection {
  /** The usable broker, or `null` when none is UP. */
  readonly usable: BrokerNode | null;
  /** Learned brokers that are not UP, shuffled: the dial order when nothing is usable. */
  readonly learned: BrokerNode[];
}

/**
 * Picks a broker.
 *
 * @param candidates Brokers still in the cluster (learned and bootstrap).
 * @param random Tie-break and shuffle source.
 * @returns The pick.
 */
export function brokerSelection(
  candidates: readonly BrokerNode[],
  random: Random,
): BrokerSelection {
  let best: BrokerNode | null = null;
  let ties = 0;
  const down: BrokerNode[] = [];
  for (const node of candidates) {
    if (!node.up) {
      if (node.learned) down.push(node);
      continue;
    }
    const cmp = best === null ? 1 : compare(node, best);
    if (cmp > 0) {
      best = node;
      ties = 1;
    } else if (cmp === 0) {
      // Reservoir sampling over equal candidates: each is kept with probability 1/ties.
      ties++;
      if (random() * ties < 1) best = node;
    }
  }
  for (let i = down.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [down[i], down[j]] = [down[j], down[i]];
  }
  return { usable: best, learned: down };
}

function compare(a: BrokerNode, b: BrokerNode): number {
  if (a.learned !== b.learned) return a.learned ? 1 : -1;
  return a.lastUsed - b.lastUsed;
}
