/**
 * Byte layout of the RecordBatch v2 header, shared by the encoder and the decoder.
 *
 * @module
 */

/** The size of the batch header, up to and including the record count. */
export const HEADER_SIZE = 61;
/** Base offset and batch length: the part of the header not counted in the batch length. */
export const LOG_OVERHEAD = 12;
/** Where the magic byte is, from the start of the batch. */
export const MAGIC_AT = 16;
/** Where the CRC-32C is. */
export const CRC_AT = 17;
/** Where the attributes are; the CRC covers from here to the end. */
export const ATTRIBUTES_AT = 21;

/** The attributes' codec bits. */
export const ATTR_COMPRESSION = 0x07;
/** The attributes' timestamp type bit: set for LogAppendTime. */
export const ATTR_LOG_APPEND_TIME = 0x08;
/** The attributes' transactional bit. */
export const ATTR_TRANSACTIONAL = 0x10;
/** The attributes' control batch bit. */
export const ATTR_CONTROL = 0x20;
