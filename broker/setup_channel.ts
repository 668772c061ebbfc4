/**
 * The setup steps' view of one socket (the `SetupChannel` of `handshake.ts`): setup requests
 * through the pipeline, legacy SASL frames through the socket, state changes. Everything it
 * does is refused once the socket is no longer the connection's current one.
 *
 * @module
 */

import { type ApiSpec, isFlexible } from "../protocol/api.ts";
import { ConnectionClosedError, type KafkaTransportError } from "../transport/errors.ts";
import type { SetupChannel } from "./handshake.ts";
import { type Pending, setupPending, track } from "./pending.ts";
import type { BrokerSocket } from "./socket.ts";
import { BrokerState } from "./state.ts";

/** Fires after the connection fails, so that awaits in a stale setup stop. */
class StaleSetupError extends ConnectionClosedError {}

/** What a setup channel needs from its connection. */
export interface ChannelHost {
  /**
   * Whether `socket` is still the connection's current one.
   *
   * @param socket The socket.
   */
  isCurrent(socket: BrokerSocket): boolean;
  /**
   * Applies a loss held back behind the reply the setup steps just acted on.
   *
   * @param socket The socket.
   * @returns The loss (the connection has then failed with it), or `null`.
   */
  takeDeferredLoss(socket: BrokerSocket): KafkaTransportError | null;
  /**
   * Queues a setup request.
   *
   * @param p The request.
   */
  enqueueSetup(p: Pending): void;
  /**
   * The timeout and clock reading for a setup request.
   *
   * @param timeoutMs Its own timeout, when the step gives one.
   * @returns Timeout and time.
   */
  timing(timeoutMs: number | undefined): { timeoutMs: number; now: number };
  /**
   * A legacy token frame was written.
   *
   * @param bytes Its size.
   */
  tokenWritten(bytes: number): void;
  /**
   * Writing a legacy token failed.
   *
   * @param socket The socket.
   * @param error What the write rejected with.
   */
  tokenWriteFailed(socket: BrokerSocket, error: unknown): void;
  /**
   * Moves the connection to a state.
   *
   * @param state The state.
   * @param reason Why.
   */
  enter(state: BrokerState, reason: string): void;
}

/**
 * Makes the setup channel of one socket.
 *
 * @param socket The socket.
 * @param host The connection.
 * @returns The channel.
 */
export function setupChannel(socket: BrokerSocket, host: ChannelHost): SetupChannel {
  const stale = () => new StaleSetupError("connection attempt superseded");
  const enqueue = (p: Pending) => host.enqueueSetup(p);
  return {
    call: (api, version, request, timeoutMs) => {
      if (!host.isCurrent(socket)) return Promise.reject(stale());
      const lost = host.takeDeferredLoss(socket);
      if (lost !== null) return Promise.reject(lost);
      const spec = api as ApiSpec<unknown, unknown>;
      const t = { ...host.timing(timeoutMs), signal: undefined };
      return track(setupPending(spec, version, isFlexible(api, version), request, t), enqueue);
    },
    legacyRoundTrip: (token) => {
      if (!host.isCurrent(socket)) return Promise.reject(stale());
      const lost = host.takeDeferredLoss(socket);
      if (lost !== null) return Promise.reject(lost);
      return socket.legacyRoundTrip(
        token,
        (bytes) => host.tokenWritten(bytes),
        (error) => host.tokenWriteFailed(socket, error),
      );
    },
    enter: (state, reason) => {
      if (!host.isCurrent(socket)) return;
      socket.setLegacy(state === BrokerState.AUTH_LEGACY);
      host.enter(state, reason);
    },
    check: () => {
      if (!host.isCurrent(socket)) throw stale();
    },
  };
}
