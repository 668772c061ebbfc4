/**
 * Sends one request on a connection that was UP when it was picked, and takes it back when
 * the connection goes down before the request settles. A `BrokerConnection` keeps unwritten
 * requests queued across a reconnect, which is right for one broker but wrong for a cluster:
 * a request queued on a broker that just died would wait out its whole timeout instead of
 * going to the broker that took over. Taken back before it was written, the request is known
 * not to have reached the broker, so the caller may route it again whatever it is.
 *
 * @module
 */

import type { BrokerConnection } from "../broker/connection.ts";
import { BrokerClosedError } from "../broker/errors.ts";
import { BrokerState } from "../broker/state.ts";
import type { ApiSpec } from "../protocol/api.ts";
import { ConnectionClosedError } from "../transport/errors.ts";

/**
 * Sends `request` on `conn`, aborting it when `conn` leaves UP first.
 *
 * @param conn The connection (UP when called).
 * @param api The API codec.
 * @param request The request value.
 * @param timeoutMs The request's timeout.
 * @param signal The caller's abort signal.
 * @param reached Errors of requests that were (partly) written; a taken-back request's error
 *   joins it when the request had been written.
 * @returns The reply. Rejects like `conn.send`, or with a retriable `ConnectionClosedError`
 *   when the connection went down first.
 */
export async function sendWhileUp<Req, Res>(
  conn: BrokerConnection,
  api: ApiSpec<Req, Res>,
  request: Req,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  reached: WeakSet<object>,
): Promise<Res> {
  const abort = new AbortController();
  let lost: string | null = null;
  const off = conn.onStateChange((change) => {
    if (change.to === BrokerState.UP || change.to === BrokerState.REAUTH) return;
    lost = change.reason;
    abort.abort();
  });
  const onCallerAbort = () => abort.abort(signal?.reason);
  signal?.addEventListener("abort", onCallerAbort, { once: true });
  try {
    return await conn.send(api, request, { timeoutMs, signal: abort.signal });
  } catch (error) {
    // Closed by the cluster itself (decommissioned, or the cluster closing): the caller
    // knows why and says so better.
    if (lost === null || error instanceof BrokerClosedError) throw error;
    const taken = new ConnectionClosedError(
      `The connection went down (${lost}) before ${api.name} was answered`,
      { cause: error },
    );
    if (reached.has(error as object)) reached.add(taken);
    throw taken;
  } finally {
    off();
    signal?.removeEventListener("abort", onCallerAbort);
  }
}
