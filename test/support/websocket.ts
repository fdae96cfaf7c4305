// WebSockets (RFC 6455) for the system tests, without a library: the Node the tests run on may
// lack a global WebSocket client, and these need what a browser's hides anyway, namely whether
// a Close frame came and whether the connection ended with a reset. Text and control frames
// only; a message may come in fragments. Two ends:
// - startWebSocketBackend: an app replica that greets every WebSocket with its name, echoes
//   each text message, answers plain HTTP with what reached it (after a delay for /slow), and
//   stops as a replica does: drain() (SIGTERM: stop accepting, Close frame 1001 "going away")
//   or kill() (every socket destroyed, no Close frame);
// - openWebSocket: a client over TLS through nginx, reporting its close as a browser's
//   CloseEvent would (code, reason, wasClean), plus the Close frame and any socket error.
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { connect as netConnect } from "node:net";
import type { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;
/** RFC 6455 §7.4.1: the endpoint is going away, as a server shutting down. */
export const CLOSE_GOING_AWAY = 1001;
/** RFC 6455 §7.4.1: reserved for "closed without a Close frame"; never sent. */
export const CLOSE_ABNORMAL = 1006;
export const CLOSE_NORMAL = 1000;

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2). */
export function acceptKey(key: string): string {
  return createHash("sha1")
    .update(key + GUID)
    .digest("base64");
}

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** One frame, masked as a client must send it, unmasked as a server does. */
function encodeFrame(opcode: number, payload: Buffer, masked: boolean): Buffer {
  const length = payload.length;
  const head = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (length < 126) head[1] = length;
  else if (length < 65536) {
    head[1] = 126;
    head.writeUInt16BE(length, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(length), 2);
  }
  if (!masked) return Buffer.concat([head, payload]);
  head[1] |= 0x80;
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
  return Buffer.concat([head, mask, body]);
}

function closePayload(code: number, reason: string): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
}

/** Frames out of a byte stream, as they complete. */
class FrameReader {
  private buffered = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    const frames: Frame[] = [];
    for (;;) {
      const frame = this.next();
      if (!frame) return frames;
      frames.push(frame);
    }
  }

  private next(): Frame | undefined {
    const b = this.buffered;
    if (b.length < 2) return undefined;
    let length = b[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    const masked = (b[1] & 0x80) !== 0;
    const mask = masked ? b.subarray(offset, offset + 4) : undefined;
    if (masked) offset += 4;
    if (b.length < offset + length) return undefined;
    const raw = b.subarray(offset, offset + length);
    const payload = mask ? Buffer.from(raw.map((byte, i) => byte ^ mask[i % 4])) : Buffer.from(raw);
    this.buffered = b.subarray(offset + length);
    return { fin: (b[0] & 0x80) !== 0, opcode: b[0] & 0x0f, payload };
  }
}

/** Whole messages out of frames: text joined from its fragments, control frames as they come. */
class MessageReader {
  private frames = new FrameReader();
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;

  push(chunk: Buffer): { opcode: number; payload: Buffer }[] {
    const messages: { opcode: number; payload: Buffer }[] = [];
    for (const frame of this.frames.push(chunk)) {
      if (frame.opcode >= OPCODE.close) messages.push(frame);
      else {
        if (frame.opcode !== OPCODE.continuation) this.fragmentOpcode = frame.opcode;
        this.fragments.push(frame.payload);
        if (frame.fin) {
          messages.push({ opcode: this.fragmentOpcode, payload: Buffer.concat(this.fragments) });
          this.fragments = [];
        }
      }
    }
    return messages;
  }
}

// ---------------------------------------------------------------------------------------
// The replica.

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface WebSocketBackend {
  address: string;
  name: string;
  /** WebSockets open now. */
  open: () => number;
  /** Plain HTTP requests answered, in order. */
  requests: () => SeenRequest[];
  /** WebSocket handshakes accepted, in order. */
  handshakes: () => SeenRequest[];
  /**
   * What the app does on SIGTERM: close the listener, send every WebSocket a Close frame
   * 1001 "going away", and close each connection once the client answers (or after 2 s).
   */
  drain: () => Promise<void>;
  /** A replica killed: the listener closed and every connection destroyed, no Close frame sent. */
  kill: () => Promise<void>;
  close: () => Promise<void>;
}

/** The greeting a replica sends first on every WebSocket: who answered, and for which path. */
export interface Greeting {
  instance: string;
  url: string;
}

/**
 * An app replica on `address:port`. Plain HTTP gets a JSON echo of what reached it
 * (`?pad=<n>` adds n bytes; `/slow?ms=<n>` answers after n ms); a WebSocket gets the Greeting,
 * then every text message back unchanged.
 */
export async function startWebSocketBackend(address: string, port: number, name: string): Promise<WebSocketBackend> {
  const requests: SeenRequest[] = [];
  const handshakes: SeenRequest[] = [];
  const sockets = new Map<Duplex, { closing: boolean }>();
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    let bodyBytes = 0;
    req.on("data", (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://replica");
      const answer = () => {
        res.setHeader("content-type", "application/json");
        const pad = "x".repeat(Number(url.searchParams.get("pad") ?? 0));
        res.end(JSON.stringify({ instance: name, method: req.method, url: req.url, headers: req.headers, bodyBytes, pad }));
      };
      if (url.pathname.endsWith("/slow")) setTimeout(answer, Number(url.searchParams.get("ms") ?? 0));
      else answer();
    });
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const key = req.headers["sec-websocket-key"];
    if (req.headers.upgrade?.toLowerCase() !== "websocket" || typeof key !== "string" || req.headers["sec-websocket-version"] !== "13") {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    handshakes.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
    );
    const state = { closing: false };
    sockets.set(socket, state);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => sockets.delete(socket));
    const send = (opcode: number, payload: Buffer) => socket.write(encodeFrame(opcode, payload, false));
    const greeting: Greeting = { instance: name, url: req.url ?? "" };
    send(OPCODE.text, Buffer.from(JSON.stringify(greeting)));
    const reader = new MessageReader();
    const receive = (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        if (message.opcode === OPCODE.text) send(OPCODE.text, message.payload);
        else if (message.opcode === OPCODE.ping) send(OPCODE.pong, message.payload);
        else if (message.opcode === OPCODE.close) {
          // The client's Close: answered with the same code unless this end started the closing.
          if (!state.closing) send(OPCODE.close, message.payload.subarray(0, 2));
          state.closing = true;
          socket.end();
        }
      }
    };
    if (head.length > 0) receive(head);
    socket.on("data", receive);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  return {
    address,
    name,
    open: () => sockets.size,
    requests: () => [...requests],
    handshakes: () => [...handshakes],
    drain: async () => {
      const stopped = stopListening();
      await Promise.all(
        [...sockets].map(
          ([socket, state]) =>
            new Promise<void>((resolve) => {
              state.closing = true;
              socket.once("close", () => resolve());
              socket.write(encodeFrame(OPCODE.close, closePayload(CLOSE_GOING_AWAY, "going away"), false));
              setTimeout(() => socket.destroy(), 2000).unref();
            }),
        ),
      );
      await stopped;
    },
    kill: async () => {
      const stopped = stopListening();
      for (const socket of sockets.keys()) socket.destroy();
      server.closeAllConnections();
      await stopped;
    },
    close: async () => {
      for (const socket of sockets.keys()) socket.destroy();
      server.closeAllConnections();
      if (server.listening) await stopListening();
    },
  };
}

// ---------------------------------------------------------------------------------------
// The browser.

/** How a WebSocket ended: a browser's CloseEvent, plus what it leaves out. */
export interface WebSocketClosed {
  /** The Close frame's status code; 1005 for a frame without one, 1006 without a frame. */
  code: number;
  reason: string;
  /** The closing handshake completed: a Close frame each way, then the connection ended without error. */
  wasClean: boolean;
  closeFrameReceived: boolean;
  /** The socket's error, such as ECONNRESET, if the connection ended with one. */
  error?: string;
  /** When the connection ended (Date.now()). */
  at: number;
}

export interface WebSocketClient {
  /** The 101 answer's headers, lowercase names. */
  headers: Record<string, string>;
  send: (text: string) => void;
  /** The next text message, failing after `timeoutMs`. */
  next: (timeoutMs?: number) => Promise<string>;
  /** Starts the closing handshake. */
  close: (code?: number, reason?: string) => void;
  /** Settles when the connection has ended, however it ended. */
  closed: Promise<WebSocketClosed>;
  /** Ends the connection at once, without a Close frame. */
  destroy: () => void;
}

export interface WebSocketRequest {
  /** nginx's HTTPS port on 127.0.0.1. */
  port: number;
  /** The name for SNI and the Host header. */
  host: string;
  path: string;
  /** The certificate to trust (the placeholder is its own CA). */
  ca: string;
  /** Source address, so rate limiting sees a client of its own. */
  localAddress?: string;
}

/** A non-101 answer to the handshake. */
export class WebSocketRefused extends Error {
  constructor(
    readonly status: number,
    readonly head: string,
  ) {
    super(`the WebSocket handshake was answered ${status}: ${head.split("\r\n")[0]}`);
  }
}

/** A WebSocket through nginx, as a browser opens one: HTTPS, HTTP/1.1, Upgrade. */
export function openWebSocket(request: WebSocketRequest, timeoutMs = 10_000): Promise<WebSocketClient> {
  return new Promise((resolve, reject) => {
    const tcp = netConnect({ host: "127.0.0.1", port: request.port, localAddress: request.localAddress });
    const socket = tlsConnect({ socket: tcp, servername: request.host, ca: request.ca, ALPNProtocols: ["http/1.1"] });
    const key = randomBytes(16).toString("base64");
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to the WebSocket handshake for ${request.path} within ${timeoutMs} ms`));
    }, timeoutMs);
    let head = Buffer.alloc(0);
    let opened = false;
    const messages: string[] = [];
    const waiting: ((text: string) => void)[] = [];
    const reader = new MessageReader();
    let closeFrameReceived = false;
    let closeFrameSent = false;
    let closeCode = CLOSE_ABNORMAL;
    let closeReason = "";
    let error: string | undefined;
    const sendFrame = (opcode: number, payload: Buffer) => {
      if (!socket.destroyed && socket.writable) socket.write(encodeFrame(opcode, payload, true));
    };
    const closed = new Promise<WebSocketClosed>((settle) => {
      socket.on("close", () =>
        settle({
          code: closeFrameReceived ? closeCode : CLOSE_ABNORMAL,
          reason: closeFrameReceived ? closeReason : "",
          wasClean: closeFrameReceived && closeFrameSent && error === undefined,
          closeFrameReceived,
          error,
          at: Date.now(),
        }),
      );
    });
    const receive = (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        if (message.opcode === OPCODE.text) {
          const text = message.payload.toString();
          const waiter = waiting.shift();
          if (waiter) waiter(text);
          else messages.push(text);
        } else if (message.opcode === OPCODE.ping) sendFrame(OPCODE.pong, message.payload);
        else if (message.opcode === OPCODE.close) {
          closeFrameReceived = true;
          closeCode = message.payload.length >= 2 ? message.payload.readUInt16BE(0) : 1005;
          closeReason = message.payload.subarray(2).toString();
          if (!closeFrameSent) {
            closeFrameSent = true;
            sendFrame(OPCODE.close, message.payload.subarray(0, 2));
          }
        }
      }
    };
    // A reset shows on the TCP socket; the TLS socket over it may report it too, or only close.
    const failed = (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
      if (!opened) {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      }
    };
    tcp.on("error", failed);
    socket.on("error", failed);
    socket.on("data", (chunk: Buffer) => {
      if (opened) return receive(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      clearTimeout(timer);
      const text = head.subarray(0, end).toString();
      const [statusLine, ...lines] = text.split("\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(":")).trim().toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]),
      );
      if (status !== 101 || headers["sec-websocket-accept"] !== acceptKey(key)) {
        socket.destroy();
        reject(new WebSocketRefused(status, text));
        return;
      }
      opened = true;
      resolve({
        headers,
        send: (message) => sendFrame(OPCODE.text, Buffer.from(message)),
        next: (waitMs = 10_000) =>
          new Promise((settle, fail) => {
            const queued = messages.shift();
            if (queued !== undefined) return settle(queued);
            const timeout = setTimeout(() => {
              waiting.splice(waiting.indexOf(deliver), 1);
              fail(new Error(`no WebSocket message within ${waitMs} ms`));
            }, waitMs);
            const deliver = (message: string) => {
              clearTimeout(timeout);
              settle(message);
            };
            waiting.push(deliver);
          }),
        close: (code = CLOSE_NORMAL, reason = "") => {
          closeFrameSent = true;
          sendFrame(OPCODE.close, closePayload(code, reason));
        },
        closed,
        destroy: () => socket.destroy(),
      });
      const rest = head.subarray(end + 4);
      if (rest.length > 0) receive(rest);
    });
    socket.on("secureConnect", () => {
      socket.write(
        [
          `GET ${request.path} HTTP/1.1`,
          `Host: ${request.host}`,
          "Upgrade: websocket",
          "Connection: Upgrade",
          `Sec-WebSocket-Key: ${key}`,
          "Sec-WebSocket-Version: 13",
          `Origin: https://${request.host}`,
          "",
          "",
        ].join("\r\n"),
      );
    });
  });
}
