// Runs before agent code, in the agent's own engine. Receives the three raw host functions and builds the frozen
// `agentsec` object and `console` from them; nothing else of the host is reachable. Errors from the kernel become
// JavaScript errors with `code` (a reason code of contracts/cli.md) and `denied` (true when the grant refused).
// Every built-in it uses later is taken now: agent code may replace globals, and must not change what the host sees.
(function (rawCall, rawOutput, rawInput) {
  'use strict';
  const global = globalThis;
  const toText = String;
  const stringify = JSON.stringify;
  const isArray = Array.isArray;
  const freezeObject = Object.freeze;
  const objectValues = Object.values;
  const defineProperty = Object.defineProperty;
  const ErrorType = Error;
  const text = (value) => (value === undefined || value === null ? null : toText(value));
  function call(operation, argument, second) {
    const reply = rawCall(toText(operation), text(argument), text(second));
    if (reply[0] === 0) {
      return reply[1];
    }
    const error = new ErrorType(reply[1]);
    error.code = reply[2];
    error.denied = reply[0] === 1;
    throw error;
  }
  const freeze = (o) => {
    for (const v of objectValues(o)) {
      if (typeof v === 'object') freeze(v);
    }
    return freezeObject(o);
  };
  const api = freeze({
    input: () => rawInput(),
    output: (value) => { rawOutput(toText(value)); },
    call: call,
    fs: { read: (path) => call('fs.read', path), write: (path, content) => call('fs.write', path, content) },
    http: { fetch: (url, body) => call('http.fetch', url, body) },
    memory: { get: (key) => call('memory.get', key), put: (key, value) => call('memory.put', key, value), delete: (key) => call('memory.delete', key) },
    llm: { complete: (prompt) => call('llm.complete', prompt) },
    vectordb: { query: (collection, query) => call('vectordb.query', collection, query) },
  });
  const log = (...values) => {
    let line = '';
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      line += (i > 0 ? ' ' : '') + (typeof v === 'string' ? v : toText(stringify(v)));
    }
    rawOutput(line + '\n');
  };
  defineProperty(global, 'agentsec', { value: api, enumerable: false, writable: false, configurable: false });
  defineProperty(global, 'console', { value: freeze({ log: log, error: log, info: log, warn: log }), enumerable: false, writable: false, configurable: false });

  // Built-ins an agent does not need that reach past the engine's limits: Proxy traps through built-ins recurse on the
  // host's stack uncounted; Atomics.wait blocks the thread; shared memory, realms, weak references and finalizers
  // have no use in a single-threaded run and only widen what a bug in the engine could be reached through.
  for (const name of ['Proxy', 'Atomics', 'SharedArrayBuffer', 'ShadowRealm', 'WeakRef', 'FinalizationRegistry']) {
    delete global[name];
  }
})
