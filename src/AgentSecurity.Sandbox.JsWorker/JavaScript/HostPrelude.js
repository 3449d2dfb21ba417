// Runs before agent code, in the agent's own engine. Receives the three raw host functions and builds the frozen
// `agentsec` object and `console` from them; nothing else of the host is reachable. Errors from the kernel become
// JavaScript errors with `code` (a reason code of contracts/cli.md) and `denied` (true when the grant refused).
// Every built-in it uses later is taken now: agent code may replace globals, and must not change what the host sees.
// rawReserve(bytes, what) ends the execution with memory_limit when the bytes do not fit in what is left of its limit.
(function (rawCall, rawOutput, rawInput, rawReserve) {
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

  // ArrayBuffer and the typed arrays allocate, in one call, as many bytes as the script asks for (up to 2 GiB), and
  // the engine looks at its memory limit only between statements. The host replaces the other such built-ins; a
  // constructor it cannot make, so each is wrapped here in one that reserves the bytes first and then constructs
  // with the original. The originals stay reachable only from here: their prototypes' `constructor` and the globals
  // name the wrappers. A length is converted once, here, and passed on as a number, so the script cannot answer the
  // check with one value and the constructor with another; an array-like or iterable source is read once into an
  // array (as the constructor itself would read it) for the same reason.
  const apply = Reflect.apply;
  const construct = Reflect.construct;
  const ownKeys = Reflect.ownKeys;
  const getDescriptor = Object.getOwnPropertyDescriptor;
  const getPrototypeOf = Object.getPrototypeOf;
  const setPrototypeOf = Object.setPrototypeOf;
  const arrayFrom = Array.from;
  const bufferByteLength = getDescriptor(ArrayBuffer.prototype, 'byteLength').get;
  const typedArrayPrototype = getPrototypeOf(Uint8Array.prototype);
  const typedArrayLength = getDescriptor(typedArrayPrototype, 'length').get;
  const typedArrayTag = getDescriptor(typedArrayPrototype, Symbol.toStringTag).get;
  const isTypedArray = (value) => apply(typedArrayTag, value, []) !== undefined;
  const isArrayBuffer = (value) => {
    try {
      apply(bufferByteLength, value, []);
      return true;
    } catch (e) {
      return false;
    }
  };
  const guardConstructor = (name, bytesFor) => {
    const Original = global[name];
    if (typeof Original !== 'function') return;
    const Guarded = function (...args) {
      if (new.target === undefined) {
        return apply(Original, this, args);
      }
      rawReserve(bytesFor(args), 'new ' + name);
      return construct(Original, args, new.target === Guarded ? Original : new.target);
    };
    for (const key of ownKeys(Original)) {
      if (key !== 'prototype') defineProperty(Guarded, key, getDescriptor(Original, key));
    }
    defineProperty(Guarded, 'prototype', { value: Original.prototype, writable: false });
    setPrototypeOf(Guarded, getPrototypeOf(Original));
    defineProperty(Original.prototype, 'constructor', { value: Guarded });
    defineProperty(global, name, { value: Guarded });
  };
  guardConstructor('ArrayBuffer', (args) => (args[0] = +args[0]));
  for (const name of ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Float16Array', 'Int32Array',
    'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']) {
    const bytesPerElement = typeof global[name] === 'function' ? global[name].BYTES_PER_ELEMENT : 0;
    guardConstructor(name, (args) => {
      const source = args[0];
      if (source === null || (typeof source !== 'object' && typeof source !== 'function')) return +source * bytesPerElement;
      if (isTypedArray(source)) return apply(typedArrayLength, source, []) * bytesPerElement;
      if (isArrayBuffer(source)) return 0;
      args[0] = arrayFrom(source);
      return args[0].length * bytesPerElement;
    });
  }
  const guardMethod = (prototype, name, bytesFor) => {
    const original = prototype[name];
    if (typeof original !== 'function') return;
    const guarded = { [name](...args) { rawReserve(bytesFor(args), name); return apply(original, this, args); } }[name];
    defineProperty(guarded, 'length', getDescriptor(original, 'length'));
    defineProperty(prototype, name, { value: guarded });
  };
  guardMethod(ArrayBuffer.prototype, 'resize', (args) => (args[0] = +args[0]));
  for (const name of ['transfer', 'transferToFixedLength']) {
    // Without a length the copy is as long as the buffer, which is already paid for.
    guardMethod(ArrayBuffer.prototype, name, (args) => (args[0] === undefined ? 0 : (args[0] = +args[0])));
  }
})
