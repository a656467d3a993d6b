/**
 * Node 20 polyfills that @jax-js/jax relies on. Imported by `./jax.ts` before jax-js itself.
 *
 * - Iterator helpers (`iter.map`, `iter.filter`, `iter.toArray`): used by `np.einsum`,
 *   `nn.dotProductAttention` and others on the result of `String.prototype.matchAll`.
 * - `Float16Array`: jax-js tests `data instanceof Float16Array` when building arrays from typed
 *   arrays; an empty class makes that test false instead of throwing a ReferenceError.
 */

type AnyIterator = Iterator<unknown> & Iterable<unknown>;

const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as Record<string, unknown>;

function define(name: string, value: (this: AnyIterator, ...args: never[]) => unknown): void {
  if (typeof iteratorPrototype[name] !== "function") {
    Object.defineProperty(iteratorPrototype, name, { value, writable: true, configurable: true });
  }
}

define("map", function* (this: AnyIterator, f: (x: unknown, i: number) => unknown) {
  let i = 0;
  for (const x of this) yield f(x, i++);
});
define("filter", function* (this: AnyIterator, f: (x: unknown, i: number) => boolean) {
  let i = 0;
  for (const x of this) if (f(x, i++)) yield x;
});
define("toArray", function (this: AnyIterator) {
  return [...this];
});

const g = globalThis as Record<string, unknown>;
if (typeof g.Float16Array === "undefined") {
  g.Float16Array = class Float16Array {};
}
