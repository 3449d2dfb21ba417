// Runs before agent code, in the agent's own engine. Receives the three raw host functions and builds the frozen
// `agentsec` object and `console` from them; nothing else of the host is reachable. Errors from the kernel become
// JavaScript errors with `code` (a reason code of contracts/cli.md) and `denied` (true when the grant refused).
(function (rawCall, rawOutput, rawInput) {
  'use strict';
  const text = (value) => (value === undefined || value === null ? null : String(value));
  function call(operation, argument, second) {
    const reply = rawCall(String(operation), text(argument), text(second));
    if (reply[0] === 0) {
      return reply[1];
    }
    const error = new Error(reply[1]);
    error.code = reply[1].slice(0, reply[1].indexOf(':'));
    error.denied = reply[0] === 1;
    throw error;
  }
  const freeze = (o) => { Object.values(o).forEach((v) => typeof v === 'object' && freeze(v)); return Object.freeze(o); };
  const api = freeze({
    input: () => rawInput(),
    output: (value) => { rawOutput(String(value)); },
    call: call,
    fs: { read: (path) => call('fs.read', path), write: (path, content) => call('fs.write', path, content) },
    http: { fetch: (url, body) => call('http.fetch', url, body) },
    memory: { get: (key) => call('memory.get', key), put: (key, value) => call('memory.put', key, value), delete: (key) => call('memory.delete', key) },
    llm: { complete: (prompt) => call('llm.complete', prompt) },
    vectordb: { query: (collection, query) => call('vectordb.query', collection, query) },
  });
  const log = (...values) => { rawOutput(values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ') + '\n'); };
  Object.defineProperty(globalThis, 'agentsec', { value: api, enumerable: false, writable: false, configurable: false });
  Object.defineProperty(globalThis, 'console', { value: freeze({ log: log, error: log, info: log, warn: log }), enumerable: false, writable: false, configurable: false });
})
