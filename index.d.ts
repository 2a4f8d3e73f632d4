// Type definitions for cio (the public API of index.js and lib/*.js).
// Hand-written: the napi loader's own types live in binding.d.ts (generated, internal).
//
//   import buildCio = require('cio')          // or, with esModuleInterop: import buildCio from 'cio'
//   const cio = buildCio({ root: 'ca.crt' })
//   if ('error' in cio) throw cio.reason
//   const socket = cio.client({ host: 'localhost', port: 8443 })

/// <reference types="node" />

import { Duplex } from 'stream';
import { EventEmitter } from 'events';
import { LookupFunction } from 'net';

/**
 * The module builder: `require('cio')(moduleOptions?)`.
 *
 * Module options are the defaults of every `client()`/`server()` call (they become the
 * prototype of each call's options). String `key`/`cert`/`ca` (or `private`/`public`/`root`)
 * values without `-----BEGIN` are file paths, resolved against `process.cwd()` and read
 * now. The builder never throws for bad material: it returns a {@link buildCio.BuildError}.
 */
declare function buildCio(moduleOptions?: buildCio.ModuleOptions): buildCio.Cio | buildCio.BuildError;

declare namespace buildCio {
  // ---------------------------------------------------------------------------------------------
  // Typed events
  // ---------------------------------------------------------------------------------------------

  /** The arguments of event `K` in event map `M` (any arguments for an event not in the map). */
  type EventArgs<M, K> = K extends keyof M ? (M[K] extends unknown[] ? M[K] : never) : any[];
  /** A listener for event `K` of event map `M`: typed for known events, `(...args: any[])` for others (addon events). */
  type EventListener<M, K> = (...args: EventArgs<M, K>) => void;

  // ---------------------------------------------------------------------------------------------
  // Builder results
  // ---------------------------------------------------------------------------------------------

  /**
   * What `buildCio()` returns instead of a {@link Cio}:
   * - `{ error: "Unable to read 'key' from: /abs/path", reason }` when TLS material named by a
   *   path cannot be read (also `'cert'`, `'ca'`; an empty file has reason code
   *   `ERR_CIO_EMPTY_FILE`);
   * - `{ error: 'module options must be an object', options }` for a non-object argument.
   */
  interface BuildError {
    error: string;
    /** The underlying error (`ENOENT`, `EISDIR`, `ERR_CIO_EMPTY_FILE`, ...) when a file could not be read. */
    reason?: CioError;
    /** The rejected argument, when it was not an object. */
    options?: unknown;
  }

  /**
   * What `onClient()`/`onServer()`/`onServerClient()` return for the first bad argument:
   * - `{ error: "must be a require()'able string or a function", arg }`
   * - `{ error: 'Unable to require module: NAME', reason }`
   * - `{ error: 'Module export must be a function: NAME', arg, exported }`
   * - `{ error: <message>, arg, reason }` when `fn.options` is malformed
   *   (reason code `ERR_CIO_INVALID_ORDER_OPTIONS`).
   */
  interface RegisterError {
    error: string;
    arg?: unknown;
    reason?: CioError;
    exported?: unknown;
  }

  /** `client()`/`server()` given something other than an object (or nothing). */
  interface OptionsError {
    error: string;
    options: unknown;
  }

  // ---------------------------------------------------------------------------------------------
  // Errors
  // ---------------------------------------------------------------------------------------------

  /** Codes cio itself defines. */
  type CioErrorCode =
    | 'ERR_CIO_CLIENT_REJECTED'
    | 'ERR_CIO_UNSUPPORTED_OPTION'
    /** A write to a TLS server's raw `'connection'` socket (its bytes belong to TLS). */
    | 'ERR_CIO_UNSUPPORTED_OPERATION'
    | 'ERR_CIO_INVALID_OPTION'
    | 'ERR_CIO_INVALID_ORDER_OPTIONS'
    | 'ERR_CIO_ORDER_CYCLE'
    | 'ERR_CIO_EMPTY_FILE'
    | 'ERR_CIO_TLS_MATERIAL'
    | 'ERR_CIO_TLS_CONFIG'
    | 'ERR_CIO_KEY_MISMATCH'
    | 'ERR_CIO_NATIVE_BINDING';

  /** Node's system error codes cio reports (with `syscall`, and `address`/`port` where Node sets them). */
  type SystemErrorCode =
    | 'ECONNREFUSED'
    | 'ECONNRESET'
    | 'ECONNABORTED'
    | 'ENOTFOUND'
    | 'EPIPE'
    | 'ETIMEDOUT'
    | 'EADDRINUSE'
    | 'EADDRNOTAVAIL'
    | 'EACCES'
    | 'ENOENT'
    | 'EISDIR'
    | 'EHOSTUNREACH'
    | 'ENETUNREACH';

  /** Node's `ERR_*` codes cio reproduces. */
  type NodeErrorCode =
    | 'ERR_SOCKET_BAD_PORT'
    | 'ERR_SOCKET_CLOSED'
    | 'ERR_SERVER_ALREADY_LISTEN'
    | 'ERR_SERVER_NOT_RUNNING'
    | 'ERR_INVALID_ARG_TYPE'
    | 'ERR_INVALID_ARG_VALUE'
    | 'ERR_OUT_OF_RANGE'
    | 'ERR_TLS_CERT_ALTNAME_INVALID'
    | 'ERR_TLS_HANDSHAKE_TIMEOUT'
    | 'ERR_TLS_INVALID_PROTOCOL_VERSION'
    | 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE'
    | 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'
    | 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN'
    | 'ERR_SSL_NO_APPLICATION_PROTOCOL'
    | 'ERR_SSL_UNSUPPORTED_PROTOCOL'
    | 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'
    | 'ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC'
    | 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'
    | 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC'
    | 'ERR_SSL_CIPHER_OPERATION_FAILED'
    | 'ERR_SSL_WRONG_VERSION_NUMBER'
    | 'ERR_SSL_NO_SHARED_CIPHER'
    | 'ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM'
    | 'ERR_SSL_HANDSHAKE_FAILURE'
    /** Any other alert received, named as OpenSSL names it (`ERR_SSL_TLSV1_ALERT_...`). */
    | `ERR_SSL_${string}`;

  /** OpenSSL's certificate verification codes, as Node puts them in `err.code` / `authorizationError`. */
  type CertificateErrorCode =
    | 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'
    | 'UNABLE_TO_GET_ISSUER_CERT'
    | 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
    | 'DEPTH_ZERO_SELF_SIGNED_CERT'
    | 'SELF_SIGNED_CERT_IN_CHAIN'
    | 'CERT_HAS_EXPIRED'
    | 'CERT_NOT_YET_VALID'
    | 'CERT_SIGNATURE_FAILURE'
    | 'CERT_REJECTED'
    | 'INVALID_CA'
    | 'INVALID_PURPOSE'
    | 'PATH_LENGTH_EXCEEDED';

  /** Every code cio documents; any other string is possible too (`string & {}` keeps completion). */
  type ErrorCode = CioErrorCode | SystemErrorCode | NodeErrorCode | CertificateErrorCode | (string & {});

  /** The errors cio creates or forwards: an `Error` with Node's extra properties. */
  interface CioError extends Error {
    code?: ErrorCode;
    errno?: number;
    syscall?: string;
    address?: string;
    port?: number;
    /** `ERR_TLS_CERT_ALTNAME_INVALID`: the host name checked. */
    host?: string;
    /** `ERR_TLS_CERT_ALTNAME_INVALID`: why the name did not match. */
    reason?: string;
    /** `ERR_CIO_INVALID_OPTION`: the option at fault. */
    option?: string;
  }

  // ---------------------------------------------------------------------------------------------
  // Options
  // ---------------------------------------------------------------------------------------------

  /** TLS material: PEM text, a file path (a string without `-----BEGIN`), a Buffer, or an array of these. */
  type Material = string | Buffer | Uint8Array | Array<string | Buffer | Uint8Array>;

  /** The TLS versions cio (rustls) supports; `'TLSv1'`/`'TLSv1.1'` fail with `ERR_CIO_UNSUPPORTED_OPTION`. */
  type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

  /** Options shared by clients and servers (no index signature; see {@link ClientOptions}). */
  interface SharedOptions {
    /** Private key (Node name). Alias: `private`. */
    key?: Material;
    /** Alias of `key`. */
    private?: Material;
    /** Certificate (chain). Alias: `public`. */
    cert?: Material;
    /** Alias of `cert`. */
    public?: Material;
    /** Trusted CA certificate(s); replaces the system roots. Alias: `root`. */
    ca?: Material;
    /** Alias of `ca`. */
    root?: Material;
    /**
     * Force TLS on or off. Default: TLS when `key`, `cert` or `ca` is present, or
     * `rejectUnauthorized === true`, or `requestCert === true`.
     */
    isSecure?: boolean;
    /**
     * Client: verify the server (default `true`). Server: with `requestCert`, reject clients
     * without a valid certificate (default `true`).
     */
    rejectUnauthorized?: boolean;
    /**
     * ALPN protocol names offered (client) or accepted (server), in preference order: an array
     * of names (strings or Buffers, 1 to 255 bytes each), or, as in Node, one Buffer/TypedArray
     * in the wire format (each name preceded by its length). A single string is one name.
     */
    ALPNProtocols?: string | NodeJS.ArrayBufferView | Array<string | NodeJS.ArrayBufferView | ArrayBuffer>;
    /** Lowest TLS version allowed (default `'TLSv1.2'`). */
    minVersion?: TlsVersion;
    /** Highest TLS version allowed (default `'TLSv1.3'`). */
    maxVersion?: TlsVersion;
    /** cio: allow TLS session resumption (tickets / session ids). */
    sessionResumption?: boolean;
    /**
     * Milliseconds a TLS handshake may take (`ERR_TLS_HANDSHAKE_TIMEOUT`); 0 for no limit.
     * A non-negative finite number; above 2147483647 it is truncated (TimeoutOverflowWarning).
     */
    handshakeTimeout?: number;
    /** Keep the writable side open after the peer ended (Node's `allowHalfOpen`). */
    allowHalfOpen?: boolean;
    /** Disable Nagle's algorithm on the socket(s). */
    noDelay?: boolean;
    /** Enable TCP keep-alive on the socket(s). */
    keepAlive?: boolean;
    /** Milliseconds before the first keep-alive probe. */
    keepAliveInitialDelay?: number;
    readableHighWaterMark?: number;
    writableHighWaterMark?: number;
  }

  /** Options only a client uses (Node's `net.connect` / `tls.connect` plus cio's). */
  interface ClientOnlyOptions {
    /** Host to connect to (default `'localhost'`); also the default `servername`. */
    host?: string;
    port?: number | string;
    /** A Unix domain socket path instead of host/port. */
    path?: string;
    /** Idle timeout in milliseconds (`socket.setTimeout`). */
    timeout?: number;
    localAddress?: string;
    localPort?: number;
    family?: 0 | 4 | 6 | 'IPv4' | 'IPv6';
    hints?: number;
    lookup?: LookupFunction;
    /** Node's: try every address the lookup returns, alternating IPv6/IPv4 (default: Node's `net.getDefaultAutoSelectFamily()`). */
    autoSelectFamily?: boolean;
    autoSelectFamilyAttemptTimeout?: number;
    /** Destroys the socket with an `AbortError` when aborted (as Node's). */
    signal?: AbortSignal;
    /** cio: milliseconds the TCP connect may take before failing with `ETIMEDOUT`. */
    connectTimeout?: number;
    /** TLS: the name sent as SNI and checked against the server certificate (default `host`). */
    servername?: string;
    /**
     * TLS: replaces the built-in host name check; return an Error to fail the connection
     * (unless `rejectUnauthorized: false`). `require('tls').checkServerIdentity` fits.
     */
    checkServerIdentity?: (hostname: string, cert: DetailedPeerCertificate) => Error | undefined;
    /**
     * **[planned]** Reconnect automatically (SPEC section 9); not implemented yet in this
     * version (the value is currently not acted on).
     */
    reconnect?: boolean | ReconnectOptions;
  }

  interface ReconnectOptions {
    retryDelay?: number;
    maxDelay?: number;
    factor?: number;
    maxRetries?: number;
  }

  /** Options only a server uses (Node's `net.createServer` / `tls.createServer` plus cio's). */
  interface ServerOnlyOptions {
    /** TLS: ask clients for a certificate. */
    requestCert?: boolean;
    /** Pause each accepted socket (Node's `pauseOnConnect`). */
    pauseOnConnect?: boolean;
    /**
     * TLS: return false to reject the client; `name` is the peer's subject CN. Called with
     * the server-client context as `this`. Default: allow all. May return a Promise: the
     * connection waits until it settles; `true` admits, `false` or a rejection refuses.
     */
    isClientAllowed?: (this: ServerClientContext, name: string | undefined, peerCert: PeerCertificate | EmptyPeerCertificate) => boolean | PromiseLike<boolean>;
    /**
     * TLS: called instead of the default rejection (an `ERR_CIO_CLIENT_REJECTED` 'error' on the
     * socket, then destroy). The caller decides what to send and when to close.
     */
    rejectClient?: (this: ServerClientContext, socket: TLSSocket, name: string | undefined, peerCert: PeerCertificate | EmptyPeerCertificate) => void;
    /** Added as a `'secureConnection'` listener. */
    onSecureConnect?: (this: TLSServer, socket: TLSSocket) => void;
    /** cio: names (exact or `*` globs) allowed, matched natively against CN and DNS/email SANs. */
    allowClients?: string[];
    /** cio: names (exact or `*` globs) denied; deny wins over allow. */
    denyClients?: string[];
    /** Turn off re-listening on `EADDRINUSE`. */
    noRelisten?: boolean;
    /** Milliseconds before re-listening (default 3000). */
    retryDelay?: number;
    /** Re-listen attempts before giving up and closing (default 3). */
    maxRetries?: number;
    /** Called instead of the default listen-again, with the remembered `listen()` arguments (minus the callback). */
    relisten?: (this: ServerContext, server: Server, listenArgs: unknown[]) => void;
  }

  /**
   * Client `onConnect(socket)`: the connect callback, called with the socket (also as `this`)
   * after the TCP connect (plain) or after the handshake (TLS).
   */
  type ClientConnectListener = (this: Socket, socket: Socket) => void;
  /** Server `onConnect`: a `'connection'` listener. */
  type ServerConnectListener = (this: Server, socket: Socket) => void;

  /**
   * `client(options)`: every option of Node's `net.connect`/`tls.connect` that cio supports,
   * cio's own, and anything else a listener (addon) reads from the context. A TLS option cio
   * cannot honour (`pfx`, `ciphers`, ...) fails with `ERR_CIO_UNSUPPORTED_OPTION`.
   */
  interface ClientOptions extends SharedOptions, ClientOnlyOptions {
    onConnect?: ClientConnectListener;
    [option: string]: unknown;
  }

  /** `server(options)`: like {@link ClientOptions}, for `net.createServer`/`tls.createServer`. */
  interface ServerOptions extends SharedOptions, ServerOnlyOptions {
    onConnect?: ServerConnectListener;
    [option: string]: unknown;
  }

  /**
   * `buildCio(moduleOptions)`: defaults for every client and server. `noRelisten: true`
   * disables the `cio/relistener` core listener of this instance.
   */
  interface ModuleOptions extends SharedOptions, ClientOnlyOptions, ServerOnlyOptions {
    /** Used by both sides: the client connect callback (no argument) and the server `'connection'` listener. */
    onConnect?: (this: Socket | Server, socket?: Socket) => void;
    [option: string]: unknown;
  }

  /** The context of a client-chain run: the call's options, plus what the core listeners add. */
  interface ClientContext extends ClientOptions {
    /** The Cio instance running the chain. */
    cio: Cio;
    /** Set by `cio/secure`. */
    isSecure?: boolean;
    /** Set by `cio/createClient`. */
    client?: Socket | TLSSocket;
  }

  /** The context of a server-chain run. */
  interface ServerContext extends ServerOptions {
    cio: Cio;
    isSecure?: boolean;
    /** Set by `cio/createServer`. */
    server?: Server | TLSServer;
  }

  /** The context of a server-client run: a fresh object whose prototype is the server's context. */
  interface ServerClientContext extends ServerContext {
    /** The accepted socket. */
    serverClient: Socket | TLSSocket;
  }

  /** Any chain context. */
  type Context = ClientContext | ServerContext | ServerClientContext;

  // ---------------------------------------------------------------------------------------------
  // Listeners and ordering
  // ---------------------------------------------------------------------------------------------

  /** The ids of cio's core listeners (order your own around these). */
  type CoreListenerId =
    | 'CheckOrderedError'
    | 'cio/move-aliases'
    | 'cio/secure'
    | 'cio/ensure-certs'
    | 'cio/createClient'
    | 'cio/createServer'
    | 'cio/relistener'
    | 'cio/emit-new-server-client'
    | 'cio/authenticate-client';

  /** A listener id in `before`/`after`: any id, a core id, or `'*'` (all others). */
  type ListenerRef = CoreListenerId | '*' | (string & {});

  /** `fn.options`: ordering constraints and the `this` of the call. */
  interface ListenerOptions {
    /** The id used for ordering and for `remove`/`disable` by id; default: the function's name. */
    id?: string;
    /** Ids this listener must run before; `['*']` means before all others. */
    before?: ListenerRef[];
    /** Ids this listener must run after; `['*']` means after all others. */
    after?: ListenerRef[];
    /** The `this` of the call (default: the context). */
    this?: unknown;
  }

  /**
   * A chain listener, called as `listener.call(thisArg, control, context)`; `thisArg` is the
   * context unless `listener.options.this` is set. Throwing fails the run (`'caught error'`).
   */
  interface Listener<C extends object = Context> {
    (this: C, control: Control<C>, context: C): unknown;
    options?: ListenerOptions;
  }

  /** What the `on*()` methods accept: a listener, a `require()`able module name, or an array of them. */
  type ListenerArg<C extends object> = Listener<C> | string | Array<Listener<C> | string>;

  // ---------------------------------------------------------------------------------------------
  // Chain (chain-builder 0.11 compatible)
  // ---------------------------------------------------------------------------------------------

  /** A listener chosen by its index in `array`, its id, or the function itself. */
  type Which<C extends object> = number | string | Listener<C>;

  /** An operation that did not apply (`'not found'`, `'run already ended'`, ...). */
  interface NotApplied {
    result: false;
    reason: string;
    which?: unknown;
  }

  interface AddResult<C extends object> {
    result: true;
    added: Array<Listener<C>>;
    chain: Chain<C>;
  }

  interface AddError {
    error: 'must be a function';
    fn: unknown;
  }

  interface RemoveResult<C extends object> {
    result: true;
    reason?: string;
    removed: Array<Listener<C>>;
  }

  interface DisableResult<C extends object> {
    result: true;
    /** The reason given (`true` for a whole chain disabled without one). */
    reason?: string | boolean;
    /** The listeners disabled (absent when the whole chain was). */
    disabled?: Array<Listener<C>>;
  }

  interface EnableResult<C extends object> {
    result: true;
    /** The listeners enabled (absent when the whole chain was). */
    enabled?: Array<Listener<C>>;
  }

  interface ClearResult<C extends object> {
    result: true;
    removed: Array<Listener<C>>;
  }

  interface AffectResult<C extends object> {
    result: true;
    affected: Array<Listener<C>>;
  }

  /** `chain.select(predicate)`: acts on every listener the predicate picks. */
  interface Selection<C extends object> {
    disable(reason?: string): DisableResult<C>;
    enable(): EnableResult<C>;
    remove(reason?: string): RemoveResult<C>;
    affect(fn: (listener: Listener<C>, index: number) => void): AffectResult<C>;
  }

  /** Where a run ended early or paused. */
  interface RunPoint<C extends object> {
    reason?: string;
    /** Index of the listener in the run's order. */
    index: number;
    fn: Listener<C>;
  }

  /** `result.failed`: `control.fail(reason, error)`, a thrown error (`'caught error'`), or `'Unable to order the chain'`. */
  interface Failure<C extends object> extends RunPoint<C> {
    reason: string;
    error?: unknown;
  }

  interface RunOptions<C extends object> {
    /** The context (default: a new object from `base` and `props`). */
    context?: C;
    /** Prototype of the new context when none is given. */
    base?: object;
    /** Property descriptors of the new context when none is given. */
    props?: PropertyDescriptorMap;
    /** Called when the run ends (also for a disabled chain). */
    done?: (error: Error | null, result: RunResult<C> | DisabledRunResult) => void;
  }

  /** The result of a run (or of `control.next()`). */
  interface RunResult<C extends object> {
    /** False when the run failed. */
    result: boolean;
    context: C;
    chain: Chain<C>;
    /** Set when a listener called `control.stop()`. */
    stopped?: RunPoint<C>;
    /** Set when the run failed. */
    failed?: Failure<C>;
    /** Listeners that removed themselves with `control.remove()`. */
    removed?: Array<RunPoint<C>>;
    /** Set when `run()` returned while a listener had paused the run (it goes on at `resume()`). */
    paused?: RunPoint<C>;
  }

  interface DisabledRunResult {
    result: false;
    reason: 'chain disabled';
  }

  /** The events of a {@link Chain} and their arguments. */
  interface ChainEvents<C extends object> {
    add: [added: Array<Listener<C>>];
    remove: [reason: string | undefined, removed: Array<Listener<C>>];
    /** Whole chain: `(reason)`; listeners: `(reason, fns)`. */
    disable: [reason: string | boolean | undefined, disabled?: Array<Listener<C>>];
    /** Whole chain: `()`; listeners: `(fns)`. */
    enable: [enabled?: Array<Listener<C>>];
    clear: [removed: Array<Listener<C>>];
    start: [context: C];
    done: [error: Error | null, result: RunResult<C>];
    pause: [control: Control<C>];
    resume: [control: Control<C>];
    stop: [stopped: RunPoint<C>, result: RunResult<C>];
    fail: [failed: Failure<C>, result: RunResult<C>];
  }

  /**
   * A listener chain (an EventEmitter, compatible with chain-builder 0.11). Before a run of a
   * chain whose array changed, `array` is ordered by the listeners' `before`/`after` options.
   */
  interface Chain<C extends object = Context> extends EventEmitter {
    /** The listeners, in run order after a run. */
    array: Array<Listener<C>>;
    /** The error of the last failed ordering, else null (the `CheckOrderedError` listener fails runs on it). */
    orderError: Error | null;

    /** Appends listeners; emits `'add'`. */
    add(...fns: Array<Listener<C>>): AddResult<C> | AddError;
    add(fns: Array<Listener<C>>): AddResult<C> | AddError;

    /** Removes the listener(s) at an index, with an id, or the function; emits `'remove'`. */
    remove(which: Which<C>, reason?: string): RemoveResult<C> | NotApplied;

    /** Disables the whole chain (runs return `{ result: false, reason: 'chain disabled' }`); emits `'disable'`. */
    disable(): DisableResult<C>;
    disable(reason: string): DisableResult<C>;
    /** Disables one listener in this chain (for an id, pass a reason); emits `'disable'`. */
    disable(which: Which<C>, reason: string | boolean): DisableResult<C> | NotApplied;
    disable(which: number | Listener<C>): DisableResult<C> | NotApplied;

    /** Enables the whole chain, or one listener; emits `'enable'`. */
    enable(which?: Which<C>): EnableResult<C> | NotApplied;

    /** The reason `fn` is disabled in this chain (`true` without one), or false. */
    isDisabled(fn: Listener<C>): string | boolean;

    select(predicate: (fn: Listener<C>, index: number) => unknown): Selection<C>;

    /** Removes every listener (core listeners too); emits `'clear'`. */
    clear(): ClearResult<C>;

    /** Runs the chain; emits `'start'`, `'done'` and the others. */
    run(options?: RunOptions<C>): RunResult<C> | DisabledRunResult;

    on<K extends string | symbol>(event: K, listener: EventListener<ChainEvents<C>, K>): this;
    once<K extends string | symbol>(event: K, listener: EventListener<ChainEvents<C>, K>): this;
  }

  // ---------------------------------------------------------------------------------------------
  // Control
  // ---------------------------------------------------------------------------------------------

  /** `resume()` (from `control.pause()`): continues the paused run. */
  interface Resume {
    (): { result: boolean; reason?: string };
    /**
     * An `(err, value)` callback that resumes the run: an error fails it with `errorMessage`
     * (default `'callback error'`), otherwise `value` is stored as `context[key]` when a key is given.
     */
    callback(errorMessage?: string, key?: string): (error?: unknown, value?: unknown) => { result: boolean; reason?: string };
  }

  /** The first argument of every listener; valid for one listener call of one run. */
  interface Control<C extends object = Context> {
    /** The chain being run. */
    readonly chain: Chain<C>;
    /** Ends the run as failed: `result.failed = { reason, index, fn, error? }`. */
    fail(reason: string, error?: unknown): { result: true; failed: Failure<C> } | NotApplied;
    /** Ends the run successfully, skipping the remaining listeners. */
    stop(reason?: string): { result: true; stopped: RunPoint<C> } | NotApplied;
    /** Pauses the run after this listener returns, until the returned `resume()` is called. */
    pause(reason?: string): Resume;
    /** Runs the rest of the chain now (pipeline style) and returns its result. */
    next(context?: C, permanent?: boolean): RunResult<C> | NotApplied;
    /** Overrides the context for the next listener, or for the rest of the run when `permanent`. */
    context(context: C, permanent?: boolean): { result: true };
    /** Removes the current listener from the chain. */
    remove(reason?: string): RemoveResult<C> | NotApplied;
    /** Disables the current listener in this chain. */
    disable(reason?: string): DisableResult<C> | NotApplied;
  }

  // ---------------------------------------------------------------------------------------------
  // The Cio instance
  // ---------------------------------------------------------------------------------------------

  /** Options that make `client()`/`server()` use TLS by cio's rule (the default `isSecure`). */
  type SecureHint =
    | { isSecure: true }
    | { key: Material }
    | { private: Material }
    | { cert: Material }
    | { public: Material }
    | { ca: Material }
    | { root: Material }
    | { rejectUnauthorized: true };

  /** Why `client()` returned no socket: the run failed, stopped or paused first, the chain is disabled, or bad options. */
  type ClientFailure = RunResult<ClientContext> | DisabledRunResult | OptionsError;
  /** Why `server()` returned no server. */
  type ServerFailure = RunResult<ServerContext> | DisabledRunResult | OptionsError;

  /**
   * A cio instance (from `buildCio()`). Narrow its results with `instanceof buildCio.Socket`
   * / `instanceof buildCio.Server` (TLS sockets and servers are instances too).
   */
  interface Cio {
    /** Runs the client chain; returns the new socket (connecting), or why there is none. */
    client(options: ClientOptions & SecureHint & { isSecure?: true }): TLSSocket | ClientFailure;
    client(options?: ClientOptions): Socket | TLSSocket | ClientFailure;
    /** Runs the server chain; returns the new (not yet listening) server, or why there is none. */
    server(options: ServerOptions & (SecureHint | { requestCert: true }) & { isSecure?: true }): TLSServer | ServerFailure;
    server(options?: ServerOptions): Server | TLSServer | ServerFailure;

    /** Adds client-chain listeners; `undefined` on success. */
    onClient(...listeners: Array<ListenerArg<ClientContext>>): RegisterError | undefined;
    /** Adds server-chain listeners; `undefined` on success. */
    onServer(...listeners: Array<ListenerArg<ServerContext>>): RegisterError | undefined;
    /** Adds server-client-chain listeners (run per accepted connection, before it is announced). */
    onServerClient(...listeners: Array<ListenerArg<ServerClientContext>>): RegisterError | undefined;

    /** The client chain (5 core entries), built on first use. */
    getClientChain(): Chain<ClientContext>;
    /** The server chain (7 core entries), built on first use. */
    getServerChain(): Chain<ServerContext>;
    /** The server-client chain (2 core entries), built on first use. */
    getServerClientChain(): Chain<ServerClientContext>;
  }

  // ---------------------------------------------------------------------------------------------
  // Sockets
  // ---------------------------------------------------------------------------------------------

  type SocketReadyState = 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed';

  interface AddressInfo {
    address: string;
    family: string;
    port: number;
  }

  /** The events of a {@link Socket} and their arguments. */
  interface SocketEvents {
    connect: [];
    ready: [];
    data: [data: Buffer | string];
    end: [];
    close: [hadError: boolean];
    error: [error: CioError];
    drain: [];
    finish: [];
    pause: [];
    resume: [];
    readable: [];
    timeout: [];
    lookup: [error: Error | null, address: string | undefined, family: number | string | undefined, host: string];
  }

  /** The events of a {@link TLSSocket}. */
  interface TLSSocketEvents extends SocketEvents {
    secureConnect: [];
  }

  /** Options of `new Socket()`. */
  interface SocketConstructorOptions {
    allowHalfOpen?: boolean;
    timeout?: number;
    highWaterMark?: number;
    readableHighWaterMark?: number;
    writableHighWaterMark?: number;
    /** Destroys the socket with an `AbortError` when aborted (as Node's). */
    signal?: AbortSignal;
    noDelay?: boolean;
    keepAlive?: boolean;
    keepAliveInitialDelay?: number;
  }

  /** Options of `socket.connect()` / `connect()`. */
  interface ConnectOptions extends SharedOptions, ClientOnlyOptions {
    /** With `isSecure: true`: run TLS over this socket or stream instead of connecting (STARTTLS, tunnels). */
    socket?: Duplex;
    [option: string]: unknown;
  }

  /**
   * A client or accepted socket: a `stream.Duplex` with `net.Socket`'s members. The class
   * TLS sockets extend too (so `socket instanceof Socket` holds for both).
   */
  class Socket extends Duplex {
    constructor(options?: SocketConstructorOptions);

    /** Connects (`(options[, cb])`, `(port[, host][, cb])`, `(path[, cb])`); `cb` is a `'connect'` listener. */
    connect(options: ConnectOptions, connectListener?: () => void): this;
    connect(port: number | string, host?: string, connectListener?: () => void): this;
    connect(port: number | string, connectListener?: () => void): this;
    connect(path: string, connectListener?: () => void): this;

    /** True while connecting (and, for TLS, until the TCP connect is done). */
    connecting: boolean;
    /** True until connected. */
    readonly pending: boolean;
    readonly readyState: SocketReadyState;
    readonly remoteAddress: string | undefined;
    readonly remotePort: number | undefined;
    readonly remoteFamily: string | undefined;
    readonly localAddress: string | undefined;
    readonly localPort: number | undefined;
    readonly localFamily: string | undefined;
    readonly bytesRead: number;
    readonly bytesWritten: number | undefined;
    /** @deprecated Node's alias of `writableLength`. */
    readonly bufferSize: number;
    /** The idle timeout set by `setTimeout()` (ms). */
    timeout?: number;
    /** The server that accepted this socket, or null for a client. */
    server: Server | null;

    /** `{ address, family, port }` of the local end, or `{}` when not connected. */
    address(): AddressInfo | {};
    setTimeout(timeout: number, callback?: () => void): this;
    setNoDelay(noDelay?: boolean): this;
    setKeepAlive(enable?: boolean, initialDelay?: number): this;
    ref(): this;
    unref(): this;
    /** Ends after pending writes, then destroys. */
    destroySoon(): void;
    /**
     * Closes a TCP connection with RST instead of FIN (SO_LINGER 0), after the connect when it
     * is still connecting. Throws `ERR_INVALID_HANDLE_TYPE` for a Unix or TLS socket (as
     * Node's); a socket without a connection is destroyed with `ERR_SOCKET_CLOSED`.
     */
    resetAndDestroy(): this;
    /** The addresses tried by the last connect when the lookup gave more than one. */
    autoSelectFamilyAttemptedAddresses?: string[];

    write(chunk: string | Uint8Array, callback?: (error?: Error | null) => void): boolean;
    write(chunk: string | Uint8Array, encoding?: BufferEncoding, callback?: (error?: Error | null) => void): boolean;
    end(callback?: () => void): this;
    end(chunk: string | Uint8Array, callback?: () => void): this;
    end(chunk: string | Uint8Array, encoding?: BufferEncoding, callback?: () => void): this;

    addListener<K extends string | symbol>(event: K, listener: EventListener<SocketEvents, K>): this;
    on<K extends string | symbol>(event: K, listener: EventListener<SocketEvents, K>): this;
    once<K extends string | symbol>(event: K, listener: EventListener<SocketEvents, K>): this;
    prependListener<K extends string | symbol>(event: K, listener: EventListener<SocketEvents, K>): this;
    off<K extends string | symbol>(event: K, listener: EventListener<SocketEvents, K>): this;
    removeListener<K extends string | symbol>(event: K, listener: EventListener<SocketEvents, K>): this;
    emit<K extends string | symbol>(event: K, ...args: EventArgs<SocketEvents, K>): boolean;
  }

  /** A distinguished name: repeated attributes become arrays, as in Node. */
  interface Certificate {
    /** Common name. */
    CN?: string | string[];
    /** Organization. */
    O?: string | string[];
    /** Organizational unit. */
    OU?: string | string[];
    /** Country. */
    C?: string | string[];
    /** State or province. */
    ST?: string | string[];
    /** Locality. */
    L?: string | string[];
    [attribute: string]: string | string[] | undefined;
  }

  /** `getPeerCertificate()`: Node's legacy certificate object, parsed natively. */
  interface PeerCertificate {
    subject: Certificate;
    issuer: Certificate;
    /** e.g. `'DNS:localhost, IP Address:127.0.0.1'`; absent without a subjectAltName extension. */
    subjectaltname?: string;
    /** True for a CA certificate. */
    ca: boolean;
    /** RSA: uppercase hex modulus. */
    modulus?: string;
    /** RSA: key size in bits. */
    bits?: number;
    /** RSA: e.g. `'0x10001'`. */
    exponent?: string;
    /** The public key (RSA: SubjectPublicKeyInfo DER; EC: the point). */
    pubkey?: Buffer;
    /** EC: e.g. `'prime256v1'`. */
    asn1Curve?: string;
    /** EC: e.g. `'P-256'`. */
    nistCurve?: string;
    /** e.g. `'Jan  1 00:00:00 2025 GMT'`. */
    valid_from: string;
    valid_to: string;
    /** SHA-1 of the DER, colon-separated uppercase hex. */
    fingerprint: string;
    fingerprint256: string;
    fingerprint512: string;
    /** Extended key usage OIDs, when present. */
    ext_key_usage?: string[];
    /** Uppercase hex. */
    serialNumber: string;
    /** The DER encoding. */
    raw: Buffer;
  }

  /** `getPeerCertificate(true)`: each certificate links its issuer (a self-signed root links itself). */
  interface DetailedPeerCertificate extends PeerCertificate {
    issuerCertificate?: DetailedPeerCertificate;
  }

  /** What `getPeerCertificate()` returns when the peer sent no certificate: `{}`. */
  type EmptyPeerCertificate = { [K in keyof PeerCertificate]?: undefined };

  /** `getCipher()`. */
  interface CipherNameAndProtocol {
    /** OpenSSL's name (TLS 1.2) or the IANA name (TLS 1.3). */
    name: string;
    standardName: string;
    version: string;
  }

  /** Options of `new TLSSocket(stream, options)`: TLS over an existing socket or stream. */
  interface TLSSocketOptions extends SharedOptions {
    /** A server-side socket (needs `key` and `cert`). Default false: a client. */
    isServer?: boolean;
    /** A server's context, or undefined to build one from these options (Node's OpenSSL `SecureContext` is refused). */
    secureContext?: unknown;
    /** Client: the SNI name and the name checked (default `'localhost'`). */
    servername?: string;
    allowHalfOpen?: boolean;
    highWaterMark?: number;
    [option: string]: unknown;
  }

  /**
   * A TLS socket (`client()` with TLS, a TLS server's `'secureConnection'`, or TLS over an
   * existing socket or stream: `connect({ isSecure: true, socket })`, `new TLSSocket(stream,
   * options)`, `server.emit('connection', stream)`): a {@link Socket} plus `tls.TLSSocket`'s
   * members. Those over a stream are `instanceof TLSSocket` and `instanceof Socket` too.
   */
  interface TLSSocket extends Socket {
    readonly encrypted: true;
    /** True when the peer's certificate was verified. */
    authorized: boolean;
    /** Why the peer is not authorized (a {@link CertificateErrorCode} or message), else null. */
    authorizationError: ErrorCode | null;
    /** The negotiated ALPN protocol, or false. */
    alpnProtocol: string | false;
    /** The SNI name (false when none was sent; undefined before the handshake). */
    servername: string | false | undefined;

    /** The peer certificate; `{}` without one; null when the socket is gone before it was read. */
    getPeerCertificate(detailed: true): DetailedPeerCertificate | EmptyPeerCertificate | null;
    getPeerCertificate(detailed?: boolean): PeerCertificate | EmptyPeerCertificate | null;
    /** `'TLSv1.2'` / `'TLSv1.3'`, or null before the handshake. */
    getProtocol(): TlsVersion | null;
    getCipher(): CipherNameAndProtocol | undefined;
    isSessionReused(): boolean;
    /** Always undefined (sessions are kept natively). */
    getSession(): undefined;

    addListener(event: 'secureConnect', listener: () => void): this;
    addListener<K extends string | symbol>(event: K, listener: EventListener<SocketEvents, K>): this;
    on(event: 'secureConnect', listener: () => void): this;
    on<K extends string | symbol>(event: K, listener: EventListener<SocketEvents, K>): this;
    once(event: 'secureConnect', listener: () => void): this;
    once<K extends string | symbol>(event: K, listener: EventListener<SocketEvents, K>): this;
    prependListener(event: 'secureConnect', listener: () => void): this;
    prependListener<K extends string | symbol>(event: K, listener: EventListener<SocketEvents, K>): this;
    off(event: 'secureConnect', listener: () => void): this;
    off<K extends string | symbol>(event: K, listener: EventListener<SocketEvents, K>): this;
    removeListener(event: 'secureConnect', listener: () => void): this;
    removeListener<K extends string | symbol>(event: K, listener: EventListener<SocketEvents, K>): this;
    emit(event: 'secureConnect'): boolean;
    emit<K extends string | symbol>(event: K, ...args: EventArgs<SocketEvents, K>): boolean;
  }

  // ---------------------------------------------------------------------------------------------
  // Servers
  // ---------------------------------------------------------------------------------------------

  /** The endpoints of a connection dropped because of `maxConnections`. */
  interface DropArgument {
    localAddress?: string;
    localPort?: number;
    localFamily?: string;
    remoteAddress?: string;
    remotePort?: number;
    remoteFamily?: string;
  }

  /** The events of a {@link Server} and their arguments. */
  interface ServerEvents {
    listening: [];
    /**
     * Plain servers: a connection accepted (after the server-client chain let it through).
     * TLS servers, as Node's: the raw TCP accept, before the handshake (which starts after the
     * listeners ran); the socket is a view of that connection with its endpoints, whose
     * `destroy()` aborts the handshake; writing to it is refused (`ERR_CIO_UNSUPPORTED_OPERATION`).
     */
    connection: [socket: Socket];
    /** TLS servers: a connection after its handshake (after the server-client chain let it through). */
    secureConnection: [socket: TLSSocket];
    error: [error: CioError];
    /**
     * After `close()`: once the listening socket is gone and every connection accepted before
     * it (TLS handshakes still in flight included, which are still announced) has closed.
     */
    close: [];
    /** Emitted before each re-listen attempt after `EADDRINUSE`. */
    relisten: [];
    /**
     * A TLS handshake failed, or the client reset or hung up before its connection was
     * announced with `'secureConnection'` (also while the server-client chain held it back);
     * reported once per connection, the socket is already destroyed. After `'secureConnection'`
     * socket errors are the application's; one nobody listens for is dropped, as in Node.
     */
    tlsClientError: [error: CioError, socket: TLSSocket];
    /** `cio/authenticate-client` rejected a client. */
    clientRejected: [name: string | undefined, peerCert: PeerCertificate | EmptyPeerCertificate];
    /** A connection was refused because `maxConnections` was reached. */
    drop: [data: DropArgument];
    /** The server-client chain failed for a connection (the socket is destroyed). */
    serverClientFailed: [failed: Failure<ServerClientContext>, socket: Socket | TLSSocket];
  }

  /** `listen(options)`. */
  interface ListenOptions {
    port?: number | string;
    host?: string;
    /** A Unix domain socket path. */
    path?: string;
    backlog?: number;
    ipv6Only?: boolean;
    /** Accepted for Node compatibility (cio has no cluster handle sharing). */
    exclusive?: boolean;
    /** Unix socket: make the socket file readable / writable by everyone. */
    readableAll?: boolean;
    writableAll?: boolean;
    /** Closes the server when aborted. */
    signal?: AbortSignal;
  }

  /** Options of `new Server()` / `createServer()`. */
  interface ServerConstructorOptions extends SharedOptions, ServerOnlyOptions {
    [option: string]: unknown;
  }

  /** A server: an EventEmitter shaped like `net.Server` (and `tls.Server` when secure). */
  class Server extends EventEmitter {
    constructor(connectionListener?: (socket: Socket) => void);
    constructor(options?: ServerConstructorOptions, connectionListener?: (socket: Socket) => void);

    /** Starts listening; `callback` is a once-`'listening'` listener. */
    listen(port?: number | string, hostname?: string, backlog?: number, callback?: () => void): this;
    listen(port?: number | string, hostname?: string, callback?: () => void): this;
    listen(port?: number | string, backlog?: number, callback?: () => void): this;
    listen(port?: number | string, callback?: () => void): this;
    listen(path: string, backlog?: number, callback?: () => void): this;
    listen(path: string, callback?: () => void): this;
    listen(options: ListenOptions, callback?: () => void): this;
    listen(callback?: () => void): this;
    /** Stops accepting; `'close'` follows once every connection closed. */
    close(callback?: (error?: Error) => void): this;
    /** `{ address, family, port }`, the socket path, or null when not listening. */
    address(): AddressInfo | string | null;
    getConnections(callback: (error: Error | null, count: number) => void): this;
    ref(): this;
    unref(): this;
    /** Connections beyond this many are dropped (`'drop'`). */
    maxConnections: number | undefined;
    readonly listening: boolean;

    addListener<K extends string | symbol>(event: K, listener: EventListener<ServerEvents, K>): this;
    on<K extends string | symbol>(event: K, listener: EventListener<ServerEvents, K>): this;
    once<K extends string | symbol>(event: K, listener: EventListener<ServerEvents, K>): this;
    prependListener<K extends string | symbol>(event: K, listener: EventListener<ServerEvents, K>): this;
    off<K extends string | symbol>(event: K, listener: EventListener<ServerEvents, K>): this;
    removeListener<K extends string | symbol>(event: K, listener: EventListener<ServerEvents, K>): this;
    emit<K extends string | symbol>(event: K, ...args: EventArgs<ServerEvents, K>): boolean;
  }

  /**
   * Node's `new tls.TLSSocket(socket, options)`: TLS over `stream` (a cio or Node socket, any
   * `Duplex`); a client unless `options.isServer`. It emits `'secure'` once the handshake is done.
   */
  const TLSSocket: {
    new (stream: Duplex, options?: TLSSocketOptions): TLSSocket;
    prototype: TLSSocket;
  };

  /**
   * A TLS server (`server()` with TLS); announces connections with `'secureConnection'`. A
   * stream given with `server.emit('connection', stream)` is handshaken as Node's server does.
   */
  interface TLSServer extends Server {}

  /**
   * Node-style connect: `(options[, cb])`, `(port[, host][, cb])`, `(path[, cb])`. With
   * `isSecure: true` it makes a {@link TLSSocket} and `cb` is a `'secureConnect'` listener.
   * (cio's own `client()` applies the `isSecure` default; this factory does not.)
   */
  function connect(options: ConnectOptions & { isSecure: true }, connectListener?: () => void): TLSSocket;
  function connect(options: ConnectOptions, connectListener?: () => void): Socket;
  function connect(port: number | string, host?: string, connectListener?: () => void): Socket;
  function connect(port: number | string, connectListener?: () => void): Socket;
  function connect(path: string, connectListener?: () => void): Socket;
  /** Node's other name for {@link connect}. */
  const createConnection: typeof connect;

  /** Node-style createServer; with `isSecure: true` a TLS server. */
  function createServer(options: ServerConstructorOptions & { isSecure: true }, secureConnectionListener?: (socket: TLSSocket) => void): TLSServer;
  function createServer(options?: ServerConstructorOptions, connectionListener?: (socket: Socket) => void): Server;
  function createServer(connectionListener?: (socket: Socket) => void): Server;
}

export = buildCio;
