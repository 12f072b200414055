/**
 * The few `Reflect` metadata functions tsyringe checks for at load time. `@peculiar/x509`
 * depends on tsyringe, which throws "tsyringe requires a reflect polyfill" unless
 * `Reflect.getMetadata` exists; its decorators never read real design metadata, so a
 * WeakMap-backed store is enough and saves the `reflect-metadata` dependency.
 *
 * @module
 */

type MetaMap = Map<unknown, unknown>;
const store = new WeakMap<object, Map<string | symbol | undefined, MetaMap>>();

const table = (target: object, prop: string | symbol | undefined, create: boolean) => {
  let byProp = store.get(target);
  if (!byProp) {
    if (!create) return undefined;
    byProp = new Map();
    store.set(target, byProp);
  }
  let meta = byProp.get(prop);
  if (!meta && create) {
    meta = new Map();
    byProp.set(prop, meta);
  }
  return meta;
};

const getOwnMetadata = (key: unknown, target: object, prop?: string | symbol): unknown =>
  table(target, prop, false)?.get(key);

const getMetadata = (key: unknown, target: object, prop?: string | symbol): unknown => {
  for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) {
    const v = table(t, prop, false);
    if (v?.has(key)) return v.get(key);
  }
  return undefined;
};

const defineMetadata = (
  key: unknown,
  value: unknown,
  target: object,
  prop?: string | symbol,
): void => {
  table(target, prop, true)!.set(key, value);
};

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== "function") {
  Object.assign(R, {
    getMetadata,
    getOwnMetadata,
    defineMetadata,
    hasMetadata: (k: unknown, t: object, p?: string | symbol) => getMetadata(k, t, p) !== undefined,
    hasOwnMetadata: (k: unknown, t: object, p?: string | symbol) =>
      table(t, p, false)?.has(k) ?? false,
    metadata: (k: unknown, v: unknown) => (t: object, p?: string | symbol) =>
      defineMetadata(k, v, t, p),
  });
}
