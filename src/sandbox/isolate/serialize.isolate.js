// @ts-check
/**
 * @module Bounded conversion of any value to JSON text, for results, logs, state values and tool
 * arguments. It writes at most `maxChars` characters and visits at most as many values as its
 * budget has left (a budget can be shared, so all of an execution's console output together has
 * one), so a 128 MB typed array, a 20 MB string or a proxy with a billion keys costs only the
 * budget; it stops with the deadline's `TimeoutError` once the deadline has passed; it uses
 * only the built-ins captured before the program ran; and it never throws (a getter that throws
 * becomes "[Unreadable: …]"), except for the deadline guard's `TimeoutError`, which code of the
 * program (a getter, `toJSON`, a proxy trap) may raise while being converted and which must end
 * the execution.
 */
import {
  arrayBufferByteLength,
  bigintToString,
  callWith,
  dataViewBuffer,
  dataViewByteLength,
  dataViewByteOffset,
  dateGetTime,
  dateToIsoString,
  isArray,
  isError,
  isView,
  jsonStringify,
  mapEntries,
  mapIteratorNext,
  mapSize,
  numberIsFinite,
  objectKeys,
  ownDataValue,
  setIteratorNext,
  setSize,
  setValues,
  stringSlice,
  StringCtor,
  symbolToString,
  typedArrayBuffer,
  typedArrayByteLength,
  typedArrayByteOffset,
  typedArrayLength,
  Uint8ArrayCtor,
  weakSetAdd,
  weakSetDelete,
  weakSetHas,
  WeakSetCtor,
} from "./intrinsics.isolate.js";
import { expired, timeoutError, TimeoutError } from "./guard.isolate.js";

const MAX_DEPTH = 64;
/** Values one conversion visits at most, unless it is given a shared budget. */
export const MAX_VALUES = 200_000;
/** How often (in values) the deadline is checked: a power of two minus one, used as a mask. */
const DEADLINE_EVERY = 1023;

/** Values still to visit; shared by conversions that draw on one budget. */
export class Budget {
  valuesLeft = 0;
  visited = 0;

  /** @param {number} values */
  constructor(values) {
    this.valuesLeft = values;
  }
}

/**
 * `complete` is false when a budget ran out; `json` is then a cut prefix, not valid JSON, and
 * `limit` says which budget: output characters or values visited.
 * @typedef {{ json: string; complete: boolean; limit?: "chars" | "values" }} BoundedJson
 */

/** Thrown internally when the output or node budget is spent. */
const FULL = Symbol("full");

/**
 * @param {unknown} value
 * @param {number} maxChars
 * @param {Budget} [budget] values it may visit; a fresh one of MAX_VALUES when not given
 * @returns {BoundedJson}
 */
export function toBoundedJson(value, maxChars, budget = new Budget(MAX_VALUES)) {
  const writer = new Writer(maxChars, budget);
  try {
    writer.value(value, 0, "top");
    return { json: writer.out, complete: true };
  } catch (error) {
    if (error !== FULL) throw error;
    const limit = budget.valuesLeft < 0 ? "values" : "chars";
    return { json: stringSlice(writer.out, 0, maxChars), complete: false, limit };
  }
}

/**
 * A value for a log line: strings as they are, Errors as `Name: message`, the rest as JSON.
 * @param {unknown} value
 * @param {number} maxChars
 * @param {Budget} [budget]
 * @returns {BoundedJson}
 */
export function toLogText(value, maxChars, budget) {
  if (typeof value === "string") {
    return value.length <= maxChars
      ? { json: value, complete: true }
      : { json: stringSlice(value, 0, maxChars), complete: false };
  }
  if (isError(value)) {
    const text = `${readName(value)}: ${readMessage(value)}`;
    return toLogText(text, maxChars);
  }
  return toBoundedJson(value, maxChars, budget);
}

/** @param {object} error */
function readName(error) {
  const own = ownDataValue(error, "name");
  if (typeof own === "string") return own;
  try {
    const name = /** @type {{ name?: unknown }} */ (error).name;
    return typeof name === "string" ? name : "Error";
  } catch {
    return "Error";
  }
}

/** @param {object} error */
function readMessage(error) {
  const own = ownDataValue(error, "message");
  if (typeof own === "string") return own;
  try {
    const message = /** @type {{ message?: unknown }} */ (error).message;
    return typeof message === "string" ? message : "";
  } catch {
    return "";
  }
}

// Fields, not assignments in the constructor: a field is defined on the instance, so a setter
// the program put on Object.prototype cannot intercept it.
class Writer {
  out = "";
  maxChars = 0;
  /** @type {Budget} */
  budget;
  seen = new WeakSetCtor();

  /**
   * @param {number} maxChars
   * @param {Budget} budget
   */
  constructor(maxChars, budget) {
    this.maxChars = maxChars;
    this.budget = budget;
  }

  /** Counts one visited value; past the budget the conversion stops, past the deadline it ends. */
  visit() {
    const budget = this.budget;
    if (--budget.valuesLeft < 0) throw FULL;
    if ((++budget.visited & DEADLINE_EVERY) === 0 && expired()) throw timeoutError();
  }

  /** @param {string} text */
  write(text) {
    this.out += text;
    if (this.out.length > this.maxChars) throw FULL;
  }

  /** @param {string} text */
  string(text) {
    // Escape at most what still fits: a 20 MB string costs only the room left.
    const room = this.maxChars - this.out.length + 1;
    this.write(jsonStringify(text.length > room ? stringSlice(text, 0, room) : text));
  }

  /**
   * Writes one value. `where` tells what `undefined` and the like become: dropped in an object,
   * `null` in an array or at the top. Returns false when nothing was written (a dropped property).
   * @param {unknown} value
   * @param {number} depth
   * @param {"top" | "array" | "property"} where
   * @returns {boolean}
   */
  value(value, depth, where) {
    this.visit();
    switch (typeof value) {
      case "undefined":
        if (where === "property") return false;
        this.write("null");
        return true;
      case "string":
        this.string(value);
        return true;
      case "boolean":
        this.write(value ? "true" : "false");
        return true;
      case "number":
        if (numberIsFinite(value)) this.write(jsonStringify(value));
        else this.string(StringCtor(value));
        return true;
      case "bigint":
        this.string(bigintToString(value));
        return true;
      case "symbol":
        this.string(symbolToString(value));
        return true;
      case "function": {
        const name = ownDataValue(value, "name");
        this.string(`[Function: ${typeof name === "string" && name ? name : "anonymous"}]`);
        return true;
      }
    }
    if (value === null) {
      this.write("null");
      return true;
    }
    const object = /** @type {object} */ (value);
    if (weakSetHas(this.seen, object)) {
      this.string("[Circular]");
      return true;
    }
    if (depth >= MAX_DEPTH) {
      this.string("[Depth limit]");
      return true;
    }
    weakSetAdd(this.seen, object);
    try {
      this.object(object, depth);
    } catch (error) {
      if (error === FULL || error instanceof TimeoutError) throw error;
      this.string(`[Unreadable: ${describe(error)}]`);
    } finally {
      weakSetDelete(this.seen, object);
    }
    return true;
  }

  /**
   * @param {object} object
   * @param {number} depth
   */
  object(object, depth) {
    if (isError(object)) {
      this.write("{");
      this.write('"name":');
      this.string(readName(object));
      this.write(',"message":');
      this.string(readMessage(object));
      this.write("}");
      return;
    }
    const time = tryCall(dateGetTime, object);
    if (time !== NOT_APPLICABLE) {
      // NaN is the only value not equal to itself (Number.isNaN may have been replaced).
      this.string(time !== time ? "Invalid Date" : dateToIsoString(object));
      return;
    }
    if (tryCall(mapSize, object) !== NOT_APPLICABLE) {
      this.map(/** @type {Map<unknown, unknown>} */ (object), depth);
      return;
    }
    if (tryCall(setSize, object) !== NOT_APPLICABLE) {
      this.set(/** @type {Set<unknown>} */ (object), depth);
      return;
    }
    if (isView(object) || tryCall(arrayBufferByteLength, object) !== NOT_APPLICABLE) {
      this.bytes(object);
      return;
    }
    if (isArray(object)) {
      this.array(object, depth);
      return;
    }
    const toJson = /** @type {{ toJSON?: unknown }} */ (object).toJSON;
    if (typeof toJson === "function") {
      this.value(callWith(toJson, object), depth + 1, "top");
      return;
    }
    this.plain(object, depth);
  }

  /**
   * @param {unknown[]} array
   * @param {number} depth
   */
  array(array, depth) {
    this.write("[");
    const length = array.length;
    for (let index = 0; index < length; index++) {
      if (index > 0) this.write(",");
      this.value(readProperty(array, index), depth + 1, "array");
    }
    this.write("]");
  }

  /**
   * @param {object} object
   * @param {number} depth
   */
  plain(object, depth) {
    this.write("{");
    const keys = objectKeys(object);
    let first = true;
    for (let index = 0; index < keys.length; index++) {
      const key = /** @type {string} */ (keys[index]);
      const mark = this.out.length;
      if (!first) this.write(",");
      this.string(key);
      this.write(":");
      if (this.value(readProperty(object, key), depth + 1, "property")) first = false;
      else this.out = stringSlice(this.out, 0, mark);
    }
    this.write("}");
  }

  /**
   * @param {Map<unknown, unknown>} map
   * @param {number} depth
   */
  map(map, depth) {
    this.write("{");
    const iterator = mapEntries(map);
    let first = true;
    for (;;) {
      const step = mapIteratorNext(iterator);
      if (step.done) break;
      // Indexing, not destructuring: destructuring runs the array iterator, which the program may replace.
      const pair = /** @type {[unknown, unknown]} */ (step.value);
      const key = pair[0];
      const entry = pair[1];
      this.visit();
      const mark = this.out.length;
      if (!first) this.write(",");
      if (typeof key === "string") this.string(key);
      else {
        const keyJson = toBoundedJson(key, this.maxChars - this.out.length, this.budget);
        if (!keyJson.complete) throw FULL;
        this.string(keyJson.json);
      }
      this.write(":");
      if (this.value(entry, depth + 1, "property")) first = false;
      else this.out = stringSlice(this.out, 0, mark);
    }
    this.write("}");
  }

  /**
   * @param {Set<unknown>} set
   * @param {number} depth
   */
  set(set, depth) {
    this.write("[");
    const iterator = setValues(set);
    let first = true;
    for (;;) {
      const step = setIteratorNext(iterator);
      if (step.done) break;
      if (!first) this.write(",");
      first = false;
      this.value(step.value, depth + 1, "array");
    }
    this.write("]");
  }

  /** @param {object} view A typed array, DataView or ArrayBuffer: written as its bytes. */
  bytes(view) {
    const bytes = byteView(view);
    this.write("[");
    const length = typedArrayLength(bytes);
    for (let index = 0; index < length; index++) {
      this.visit();
      this.write(index > 0 ? `,${bytes[index]}` : `${bytes[index]}`);
    }
    this.write("]");
  }
}

const NOT_APPLICABLE = Symbol("not applicable");

/**
 * Calls a brand-checking getter; a receiver of the wrong kind makes it throw, which means "not this kind".
 * @template T
 * @param {(self: unknown) => T} getter
 * @param {unknown} self
 * @returns {T | typeof NOT_APPLICABLE}
 */
function tryCall(getter, self) {
  try {
    return getter(self);
  } catch {
    return NOT_APPLICABLE;
  }
}

/**
 * @param {object} view
 * @returns {Uint8Array}
 */
function byteView(view) {
  if (tryCall(arrayBufferByteLength, view) !== NOT_APPLICABLE) {
    return new Uint8ArrayCtor(/** @type {ArrayBuffer} */ (view));
  }
  if (tryCall(typedArrayLength, view) !== NOT_APPLICABLE) {
    return new Uint8ArrayCtor(typedArrayBuffer(view), typedArrayByteOffset(view), typedArrayByteLength(view));
  }
  return new Uint8ArrayCtor(dataViewBuffer(view), dataViewByteOffset(view), dataViewByteLength(view));
}

/**
 * A property read that runs the program's getters (they are guarded code) but turns their
 * exceptions, other than the deadline, into a marker.
 * @param {object} object
 * @param {PropertyKey} key
 * @returns {unknown}
 */
function readProperty(object, key) {
  try {
    return /** @type {Record<PropertyKey, unknown>} */ (object)[key];
  } catch (error) {
    if (error instanceof TimeoutError) throw error;
    return `[Unreadable: ${describe(error)}]`;
  }
}

/** @param {unknown} error */
function describe(error) {
  if (error instanceof TimeoutError) throw error;
  if (isError(error)) return readMessage(error);
  try {
    return StringCtor(error);
  } catch {
    return "unknown error";
  }
}
