// @ts-check
/**
 * @module The built-ins the harness relies on, captured when the isolate's modules are evaluated,
 * before any of the model's code runs. The program may replace `Date.now`, `JSON.stringify`,
 * `String.prototype.slice`, `Promise`, array methods and the rest afterwards; the harness and the
 * guard keep using these originals. Exports are bindings, which an importer cannot reassign.
 */

const reflectApply = Reflect.apply;
const getOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor;
const getPrototypeOf = Reflect.getPrototypeOf;

/**
 * A prototype method as a plain function taking its receiver first.
 * @template {(...args: any[]) => any} F
 * @param {F} method
 * @returns {(self: unknown, ...args: Parameters<F>) => ReturnType<F>}
 */
function uncurry(method) {
  return (self, ...args) => reflectApply(method, self, args);
}

/**
 * The getter of an accessor property, as a plain function taking its receiver.
 * @param {object} prototype
 * @param {PropertyKey} key
 * @returns {(self: unknown) => any}
 */
function uncurryGetter(prototype, key) {
  const getter = getOwnPropertyDescriptor(prototype, key)?.get;
  if (!getter) throw new TypeError(`no getter for ${String(key)}`);
  return (self) => reflectApply(getter, self, []);
}

export const dateNow = Date.now;
export const jsonStringify = JSON.stringify;
export const jsonParse = JSON.parse;
export const isArray = Array.isArray;
export const isView = ArrayBuffer.isView;
export const objectKeys = Object.keys;
export const objectCreate = Object.create;
export const objectFreeze = Object.freeze;
export const defineProperty = Object.defineProperty;
export const numberIsFinite = Number.isFinite;
export const StringCtor = String;
export const PromiseCtor = Promise;
export const ProxyCtor = Proxy;
export const ErrorCtor = Error;
export const TypeErrorCtor = TypeError;
export const RangeErrorCtor = RangeError;
export const WeakSetCtor = WeakSet;
export const Uint8ArrayCtor = Uint8Array;
export const setTimer = setTimeout;
export const clearTimer = clearTimeout;

const nativePromiseReject = Promise.reject;
/** @type {(reason: unknown) => Promise<never>} */
export const promiseReject = (reason) => reflectApply(nativePromiseReject, PromiseCtor, [reason]);

export const stringSlice = uncurry(String.prototype.slice);
export const promiseThen = uncurry(Promise.prototype.then);
export const weakSetAdd = uncurry(WeakSet.prototype.add);
export const weakSetHas = uncurry(WeakSet.prototype.has);
export const weakSetDelete = uncurry(WeakSet.prototype.delete);
export const dateGetTime = uncurry(Date.prototype.getTime);
export const dateToIsoString = uncurry(Date.prototype.toISOString);
export const bigintToString = uncurry(BigInt.prototype.toString);
export const symbolToString = uncurry(Symbol.prototype.toString);
export const regExpExec = uncurry(RegExp.prototype.exec);

export const mapSize = uncurryGetter(Map.prototype, "size");
export const setSize = uncurryGetter(Set.prototype, "size");
export const mapEntries = uncurry(Map.prototype.entries);
export const setValues = uncurry(Set.prototype.values);
/** `next` of the Map and Set iterators, which the program could otherwise replace. */
export const mapIteratorNext = uncurry(/** @type {any} */ (getPrototypeOf(new Map().entries())).next);
export const setIteratorNext = uncurry(/** @type {any} */ (getPrototypeOf(new Set().values())).next);
export const arrayBufferByteLength = uncurryGetter(ArrayBuffer.prototype, "byteLength");
const typedArrayPrototype = /** @type {object} */ (getPrototypeOf(Uint8Array.prototype));
/** %TypedArray%.prototype.length: throws for anything that is not a typed array. */
export const typedArrayLength = uncurryGetter(typedArrayPrototype, "length");
export const typedArrayBuffer = uncurryGetter(typedArrayPrototype, "buffer");
export const typedArrayByteOffset = uncurryGetter(typedArrayPrototype, "byteOffset");
export const typedArrayByteLength = uncurryGetter(typedArrayPrototype, "byteLength");
export const dataViewBuffer = uncurryGetter(DataView.prototype, "buffer");
export const dataViewByteOffset = uncurryGetter(DataView.prototype, "byteOffset");
export const dataViewByteLength = uncurryGetter(DataView.prototype, "byteLength");

/**
 * Calls a function of the program's with a receiver and no arguments, without looking up
 * `Function.prototype.call`, which the program may have replaced.
 * @param {Function} fn
 * @param {unknown} self
 * @returns {unknown}
 */
export function callWith(fn, self) {
  return reflectApply(fn, self, []);
}

const nativeIsError = /** @type {{ isError?: (value: unknown) => boolean }} */ (Error).isError;

/**
 * Whether a value is an Error object (by its internal slot where the runtime can tell).
 * @param {unknown} value
 * @returns {value is Error}
 */
export function isError(value) {
  return typeof nativeIsError === "function" ? nativeIsError(value) : value instanceof ErrorCtor;
}

/**
 * An own data property's value, without running getters or proxy `get` traps; undefined otherwise.
 * @param {object} target
 * @param {PropertyKey} key
 * @returns {unknown}
 */
export function ownDataValue(target, key) {
  try {
    const descriptor = getOwnPropertyDescriptor(target, key);
    return descriptor && "value" in descriptor ? descriptor.value : undefined;
  } catch {
    return undefined;
  }
}
