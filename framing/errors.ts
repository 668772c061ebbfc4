/**
 * Errors raised while splitting the byte stream into frames or decoding their contents.
 *
 * @module
 */

import { type KafkaErrorOptions, KafkaTransportError } from "../transport/errors.ts";

/** Another protocol a peer was recognised as speaking from the bytes where a size prefix was. */
export type ForeignProtocol =
  /** An HTTP response: the size prefix reads "HTTP". */
  | "http"
  /** A TLS record (alert or handshake): a TLS listener answering plaintext. */
  | "tls";

/** Options of a {@link FramingError}. */
export interface FramingErrorOptions extends KafkaErrorOptions {
  /** The protocol the size prefix was recognised as; `null` (none) by default. */
  peer?: ForeignProtocol | null;
}

/**
 * The byte stream cannot be split into Kafka frames: a size prefix is negative, too large, or
 * is really the start of another protocol (HTTP, TLS). Fatal for the connection.
 */
export class FramingError extends KafkaTransportError {
  /** The size prefix read from the stream. */
  readonly size: number;
  /**
   * The protocol the rejected size prefix showed the peer to be speaking instead of Kafka, or
   * `null` when it looked like no protocol in particular.
   */
  readonly peer: ForeignProtocol | null;

  /**
   * Creates the error for a rejected size prefix.
   *
   * @param message What was read and what to check.
   * @param size The offending size prefix.
   * @param options Cause and recognised protocol; never retriable on the same listener.
   */
  constructor(message: string, size: number, options: FramingErrorOptions = {}) {
    super(message, { ...options, retriable: false });
    this.name = "FramingError";
    this.size = size;
    this.peer = options.peer ?? null;
  }
}

/** A frame's contents do not match the layout expected for it: truncated, or out of range. */
export class DecodeError extends KafkaTransportError {
  /** The name of the field being read when decoding failed. */
  readonly field: string;
  /** The byte offset within the frame at which that field starts. */
  readonly offset: number;

  /**
   * Creates the error for a field that cannot be decoded.
   *
   * @param field The field being read.
   * @param offset Where in the frame the field starts.
   * @param detail What is wrong with it.
   */
  constructor(field: string, offset: number, detail: string) {
    super(`Cannot decode field "${field}" at byte ${offset}: ${detail}`);
    this.name = "DecodeError";
    this.field = field;
    this.offset = offset;
  }
}

/**
 * A value cannot be encoded in the Kafka layout asked for: a UUID that is not 16 bytes, a
 * string too long for its int16 length, a patch outside the bytes written.
 */
export class EncodeError extends KafkaTransportError {
  /**
   * Creates the error for a value that cannot be encoded.
   *
   * @param message Which value is wrong and what the layout allows.
   */
  constructor(message: string) {
    super(message, { retriable: false });
    this.name = "EncodeError";
  }
}
