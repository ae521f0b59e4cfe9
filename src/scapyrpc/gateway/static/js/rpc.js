// JSON-RPC over the gateway's WebSocket: GUI handshake, several calls in flight, automatic reconnect.
import { signal } from "@preact/signals";

export class RpcError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** How long a call waits for its reply: past this the server is taken for unresponsive. */
export const CALL_TIMEOUT_MS = 60000;
/** Requests larger than this go to POST /rpc: the server takes WebSocket messages of at most 1 MiB. */
export const LARGE_REQUEST_CHARS = 512 * 1024;

export class Rpc {
  constructor(url, { timeoutMs = CALL_TIMEOUT_MS } = {}) {
    this.url = url;
    this.timeoutMs = timeoutMs;
    this.state = signal("connecting"); // connecting | connected | unresponsive | disconnected
    this.handler = null;
    this.pending = new Map();
    this.nextId = 1;
    this.backoff = 250;
    this.waiters = [];
    this.connect();
  }

  connect() {
    this.state.value = "connecting";
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => this.handshake().catch(() => ws.close());
    ws.onmessage = (event) => this.receive(event.data);
    ws.onclose = () => {
      this.ws = null;
      this.handler = null;
      if (this.state.value !== "unresponsive") this.state.value = "disconnected";
      for (const { reject, timer } of this.pending.values()) {
        clearTimeout(timer);
        reject(new RpcError(0, "connection to the server lost"));
      }
      this.pending.clear();
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 5000);
    };
  }

  async handshake() {
    const version = await this.send("get_version", undefined);
    const [major, minor] = String(version.version).split(".");
    this.handler = await this.send("get_version_handler", [major, minor]);
    this.backoff = 250;
    this.state.value = "connected";
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  receive(text) {
    let reply;
    try {
      reply = JSON.parse(text);
    } catch {
      return;
    }
    const entry = this.pending.get(reply.id);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(reply.id);
    if (reply.error) entry.reject(new RpcError(reply.error.code, reply.error.message));
    else entry.resolve(reply.result);
  }

  send(method, params) {
    const id = String(this.nextId++);
    const message = { jsonrpc: "2.0", id, method };
    if (params !== undefined) message.params = params;
    const text = JSON.stringify(message);
    if (text.length > LARGE_REQUEST_CHARS) return this.post(text, method);
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        reject(new RpcError(0, "not connected to the server"));
        return;
      }
      const timer = setTimeout(() => this.timedOut(id, method), this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(text);
    });
  }

  /** A large request over POST /rpc (same reply, same errors), within the same timeout. */
  async post(text, method) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    let reply;
    try {
      const response = await fetch("/rpc", {
        method: "POST", body: text, credentials: "same-origin", signal: abort.signal,
        headers: { "Content-Type": "application/json" },
      });
      reply = await response.json();
    } catch (err) {
      if (abort.signal.aborted) throw new RpcError(0, `no reply from the server to ${method} within ${Math.round(this.timeoutMs / 1000)} s`);
      throw new RpcError(0, `the server refused ${method}: ${err.message}`);
    } finally {
      clearTimeout(timer);
    }
    if (reply.error) throw new RpcError(reply.error.code, reply.error.message);
    return reply.result;
  }

  /** A call got no reply in time: it fails with a message, and the connection, which can no longer be
   * trusted, is replaced (the calls still waiting on it fail as lost). */
  timedOut(id, method) {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    entry.reject(new RpcError(0, `no reply from the server to ${method} within ${Math.round(this.timeoutMs / 1000)} s`));
    this.state.value = "unresponsive";
    if (this.ws) this.ws.close();
  }

  ready() {
    if (this.state.value === "connected") return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A GUI-shaped call: the handler first, then the parameters. */
  async call(method, ...params) {
    await this.ready();
    return this.send(method, [this.handler, ...params]);
  }
}

/** A human message for an error thrown by a call (the server's own text, without its prefix). */
export function errorText(err) {
  const text = err && err.message ? err.message : String(err);
  return text.replace(/^Scapy Server: /, "");
}
