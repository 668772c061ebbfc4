/**
 * The connection's request queues use the transport's {@link Fifo}; kept here so that imports
 * from `broker/` stay as they were.
 *
 * @module
 */

export { Fifo } from "../transport/fifo.ts";
