/**
 * Bun's socket API as far as the Bun adapter uses it, typed structurally so that the adapter
 * needs no Bun type package and can be driven by a fake under any runtime.
 *
 * @module
 */

/** The parts of Bun's `Socket` this adapter uses. */
export interface BunSocketLike {
  /** Per-socket context; this adapter stores its connection object here. */
  data: unknown;
  /** Local IP address. */
  readonly localAddress: string;
  /** Local port. */
  readonly localPort: number;
  /** Remote IP address. */
  readonly remoteAddress: string;
  /** Remote port. */
  readonly remotePort: number;
  /**
   * Sends what the socket can take now.
   *
   * @param data The bytes to send.
   * @returns How many bytes were accepted (possibly fewer than given), or -1 when closed.
   */
  write(data: Uint8Array): number;
  /** Sends a FIN and closes the socket. */
  end(): void;
  /** Closes the socket at once, without flushing. */
  terminate(): void;
  /** Stops `data` callbacks until {@link BunSocketLike.resume}. */
  pause(): void;
  /** Restarts `data` callbacks. */
  resume(): void;
  /**
   * Turns Nagle's algorithm off (`true`) or on.
   *
   * @param noDelay Whether to set TCP_NODELAY.
   * @returns Whether the option was applied.
   */
  setNoDelay(noDelay: boolean): boolean;
  /**
   * Turns TCP keep-alive probes on or off.
   *
   * @param enable Whether to set SO_KEEPALIVE.
   * @param initialDelay Idle time before the first probe, in milliseconds.
   * @returns Whether the option was applied.
   */
  setKeepAlive(enable: boolean, initialDelay?: number): boolean;
}

/** The socket event handlers Bun calls (`Bun.connect({ socket })`, `Bun.listen({ socket })`). */
export interface BunSocketHandlers {
  /** Asks Bun to pass `data` chunks as plain `Uint8Array`s rather than `Buffer`s. */
  binaryType: "uint8array";
  /**
   * The TCP connection is established.
   *
   * @param socket The socket.
   */
  open(socket: BunSocketLike): void;
  /**
   * The TLS handshake completed.
   *
   * @param socket The socket.
   * @param success Whether the peer was authorized.
   * @param authorizationError Why the peer's certificate was not trusted, or `null`.
   */
  handshake(socket: BunSocketLike, success: boolean, authorizationError: Error | null): void;
  /**
   * Bytes arrived.
   *
   * @param socket The socket.
   * @param chunk A buffer Bun allocated for this callback.
   */
  data(socket: BunSocketLike, chunk: Uint8Array): void;
  /**
   * The socket can take more bytes after a partial write.
   *
   * @param socket The socket.
   */
  drain(socket: BunSocketLike): void;
  /**
   * The peer sent a FIN.
   *
   * @param socket The socket.
   */
  end(socket: BunSocketLike): void;
  /**
   * The socket closed.
   *
   * @param socket The socket.
   * @param error Why, when it failed (e.g. ECONNRESET).
   */
  close(socket: BunSocketLike, error?: Error): void;
  /**
   * A handler threw, or an established TLS session failed.
   *
   * @param socket The socket.
   * @param error What failed.
   */
  error(socket: BunSocketLike, error: Error): void;
  /**
   * The connection could not be established.
   *
   * @param socket The socket.
   * @param error Why (e.g. ECONNREFUSED).
   */
  connectError(socket: BunSocketLike, error: Error): void;
}

/** Bun's TLS options for sockets, as far as this adapter sets them. */
export interface BunTlsOptions {
  /** Trusted CAs (PEM). */
  ca?: string[];
  /** Own certificate chain (PEM). */
  cert?: string;
  /** Own private key (PEM). */
  key?: string;
  /** SNI name and the name the server certificate is verified against. */
  serverName?: string;
  /** Whether to close the connection when the peer's certificate is not trusted. */
  rejectUnauthorized?: boolean;
  /** Server side: ask clients for a certificate. */
  requestCert?: boolean;
}

/** The parts of Bun's `SocketListener` this adapter uses. */
export interface BunListenerLike {
  /** The bound address. */
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /**
   * Stops accepting.
   *
   * @param closeActiveConnections Whether to close accepted connections too.
   */
  stop(closeActiveConnections?: boolean): void;
}

/** The parts of the `Bun` global this adapter uses. */
export interface BunLike {
  /**
   * Dials a TCP or TLS connection.
   *
   * @param options Address, TLS options, initial `socket.data` and handlers.
   * @returns The socket once TCP is connected (TLS may still be handshaking).
   */
  connect(options: {
    hostname: string;
    port: number;
    tls?: BunTlsOptions;
    data?: unknown;
    socket: BunSocketHandlers;
  }): Promise<BunSocketLike>;
  /**
   * Binds a listening socket.
   *
   * @param options Address, TLS options and handlers.
   * @returns The listener.
   */
  listen(options: {
    hostname: string;
    port: number;
    tls?: BunTlsOptions;
    socket: BunSocketHandlers;
  }): BunListenerLike;
}
