/**
 * The Kafka framing layer: primitive encoding ({@link Writer}) and bounds-checked decoding
 * ({@link Reader}), splitting a byte stream into frames ({@link FrameDecoder}), request and
 * response headers, and whole request frames ({@link buildFrame}). Runtime-neutral: it uses
 * only web-standard globals.
 *
 * @example
 * ```ts
 * import { buildFrame, FrameDecoder, Reader, writeRequestHeader } from "./mod.ts";
 *
 * // An ApiVersions v0 request, as it goes on the wire.
 * const frame = buildFrame((w) =>
 *   writeRequestHeader(w, { apiKey: 18, apiVersion: 0, correlationId: 1, clientId: "me" }, false)
 * );
 *
 * // What the receiving side does with the bytes, however they are chunked.
 * const decoder = new FrameDecoder();
 * decoder.push(frame.subarray(0, 3));
 * decoder.push(frame.subarray(3));
 * const body = decoder.next()!;
 * const r = new Reader(body);
 * r.int16("request_api_key"); // 18
 * ```
 *
 * @module
 */

export { FrameDecoder, type FrameDecoderOptions } from "./decoder.ts";
export {
  DecodeError,
  EncodeError,
  type ForeignProtocol,
  FramingError,
  type FramingErrorOptions,
} from "./errors.ts";
export {
  buildFrame,
  readRequestHeader,
  type RequestHeader,
  skipResponseHeaderTags,
  writeRequestHeader,
  writeResponseHeader,
} from "./header.ts";
export { Reader } from "./reader.ts";
export { type TaggedField, Writer } from "./writer.ts";
// The base class of the errors above, so that their documentation links resolve here.
export { type KafkaErrorOptions, KafkaTransportError } from "../transport/errors.ts";
