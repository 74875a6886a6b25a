import { ConfigurationError } from "../kernel/errors.js";
import type { DocumentFields } from "./document-spec.js";

/**
 * Carries the zod types JSON cannot (`z.date()`, `z.bigint()`) through every tier: Postgres jsonb, L2 bodies and
 * L1 all hold the JSON form (a Date as its ISO string, a bigint as its decimal string), and `revive` turns the
 * declared positions back into Date and bigint on the way out. Derived once per schema; a schema with no such type
 * has no codec at all, so its reads pay nothing. Types that cannot be carried are refused when the document is
 * defined.
 */
export interface FieldCodec {
  /**
   * Stored fields with the declared Date/bigint positions revived: on a copy (containers copied along the way), or,
   * with `inPlace`, in the object itself (one just parsed, shared with nobody: the L2 hit path).
   */
  revive(data: Readonly<Record<string, unknown>>, inPlace?: boolean): Record<string, unknown>;
  /** A copy of validated fields with every declared bigint written as its decimal string (Dates stay: JSON writes them). */
  encode(data: Readonly<Record<string, unknown>>): Record<string, unknown>;
}

type Convert = (value: unknown, inPlace: boolean) => unknown;

/** One direction of a compiled schema node; undefined = nothing below needs converting. */
interface Node {
  revive: Convert;
  encode: Convert;
}

interface ZodLike {
  readonly _zod: { readonly def: ZodDef };
}

interface ZodDef {
  readonly type: string;
  readonly [key: string]: unknown;
}

const codecs = new WeakMap<object, FieldCodec | null>();

/**
 * The codec of a document's fields (undefined when every field is plain JSON). Throws ConfigurationError (path
 * `fields.<path>`) for a type that cannot round-trip. Memoised per schema object.
 */
export function fieldCodec(fields: DocumentFields): FieldCodec | undefined {
  const known = codecs.get(fields);
  if (known !== undefined) return known ?? undefined;
  const compiler = new Compiler();
  const node = compiler.compile(fields as unknown as ZodLike, "fields");
  const codec: FieldCodec | undefined =
    node === undefined
      ? undefined
      : {
          revive: (data, inPlace = false) => node.revive(data, inPlace) as Record<string, unknown>,
          encode: (data) => node.encode(data, false) as Record<string, unknown>,
        };
  codecs.set(fields, codec ?? null);
  return codec;
}

const wrappers = new Set(["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional"]);
/** Types JSON turns into something else; refused with the reason. */
const refused: Readonly<Record<string, string>> = {
  map: "a Map is stored as {} in JSON; use z.record() or z.array()",
  set: "a Set is stored as {} in JSON; use z.array()",
  nan: "NaN is stored as null in JSON",
  symbol: "a symbol cannot be stored",
  function: "a function cannot be stored",
  promise: "a promise cannot be stored",
  file: "a File cannot be stored; store a reference to it",
};

class Compiler {
  /** Schemas on the current path of the special-type search (a recursive z.lazy() adds nothing the first visit did not). */
  readonly #visiting = new Set<object>();
  readonly #special = new Map<object, boolean>();
  /** Nodes by schema, for recursion: a lazy schema may reach itself. */
  readonly #nodes = new Map<object, Node | undefined>();

  compile(schema: ZodLike, path: string): Node | undefined {
    if (!this.#hasSpecial(schema, path)) return undefined;
    const known = this.#nodes.get(schema);
    if (known !== undefined || this.#nodes.has(schema)) return known;
    // A forward reference, filled in below, so a recursive schema compiles to a recursive node.
    let target: Node | undefined;
    const ref: Node = {
      revive: (value, inPlace) => (target ? target.revive(value, inPlace) : value),
      encode: (value, inPlace) => (target ? target.encode(value, inPlace) : value),
    };
    this.#nodes.set(schema, ref);
    target = this.#build(schema, path);
    this.#nodes.set(schema, target);
    return target;
  }

  /** Whether anything below `schema` is a Date or bigint (and refuses what cannot be stored). */
  #hasSpecial(schema: ZodLike, path: string): boolean {
    const known = this.#special.get(schema);
    if (known !== undefined) return known;
    if (this.#visiting.has(schema)) return false;
    this.#visiting.add(schema);
    let found = false;
    try {
      // Every child is visited (no short cut), so a refused type anywhere is reported.
      found = isLeaf(schema);
      for (const [child, at] of this.#children(schema, path)) if (this.#hasSpecial(child, at)) found = true;
    } finally {
      this.#visiting.delete(schema);
    }
    const def = schema._zod.def;
    if (found && (def.type === "union" || def.type === "intersection")) {
      throw new ConfigurationError(
        path,
        `is a ${def.type} containing z.date() or z.bigint(), which stratacache cannot tell apart from the string it stores; use .nullable()/.optional() or a plain type`,
      );
    }
    this.#special.set(schema, found);
    return found;
  }

  /** The schemas directly below one schema, with their paths; refuses the types JSON cannot carry. */
  #children(schema: ZodLike, path: string): Array<[ZodLike, string]> {
    const def = schema._zod.def;
    const reason = refused[def.type];
    if (reason !== undefined) throw new ConfigurationError(path, `is z.${def.type}(): ${reason}`);
    if (wrappers.has(def.type)) return [[def.innerType as ZodLike, path]];
    switch (def.type) {
      case "object": {
        const shape = def.shape as Record<string, ZodLike>;
        const out: Array<[ZodLike, string]> = Object.entries(shape).map(([key, child]) => [child, `${path}.${key}`]);
        if (def.catchall) out.push([def.catchall as ZodLike, `${path}.*`]);
        return out;
      }
      case "array":
        return [[def.element as ZodLike, `${path}[]`]];
      case "tuple": {
        const out: Array<[ZodLike, string]> = (def.items as ZodLike[]).map((item, i) => [item, `${path}[${i}]`]);
        if (def.rest) out.push([def.rest as ZodLike, `${path}[]`]);
        return out;
      }
      case "record":
        return [[def.valueType as ZodLike, `${path}.*`]];
      case "union":
        return (def.options as ZodLike[]).map((option) => [option, path]);
      case "intersection":
        return [
          [def.left as ZodLike, path],
          [def.right as ZodLike, path],
        ];
      case "pipe":
        // The stored value is the pipe's output.
        return [[def.out as ZodLike, path]];
      case "lazy":
        return [[(def.getter as () => ZodLike)(), path]];
      default:
        return [];
    }
  }

  #build(schema: ZodLike, path: string): Node | undefined {
    const def = schema._zod.def;
    if (def.type === "date") return dateNode;
    if (isBigintLeaf(schema)) return bigintNode;
    if (wrappers.has(def.type)) return this.compile(def.innerType as ZodLike, path);
    switch (def.type) {
      case "pipe":
        return this.compile(def.out as ZodLike, path);
      case "lazy":
        return this.compile((def.getter as () => ZodLike)(), path);
      case "array": {
        const element = this.compile(def.element as ZodLike, `${path}[]`);
        return element && arrayNode(() => element);
      }
      case "tuple": {
        const items = (def.items as ZodLike[]).map((item, i) => this.compile(item, `${path}[${i}]`));
        const rest = def.rest ? this.compile(def.rest as ZodLike, `${path}[]`) : undefined;
        return arrayNode((i) => items[i] ?? (i >= items.length ? rest : undefined));
      }
      case "record": {
        const value = this.compile(def.valueType as ZodLike, `${path}.*`);
        return value && objectNode(new Map(), new Set(), value);
      }
      case "object": {
        const fields = new Map<string, Node>();
        for (const [key, child] of Object.entries(def.shape as Record<string, ZodLike>)) {
          const node = this.compile(child, `${path}.${key}`);
          if (node) fields.set(key, node);
        }
        const rest = def.catchall ? this.compile(def.catchall as ZodLike, `${path}.*`) : undefined;
        return objectNode(fields, new Set(Object.keys(def.shape as object)), rest);
      }
      default:
        return undefined;
    }
  }
}

function isLeaf(schema: ZodLike): boolean {
  return schema._zod.def.type === "date" || isBigintLeaf(schema);
}

/** `z.bigint()`, or a literal made only of bigints. */
function isBigintLeaf(schema: ZodLike): boolean {
  const def = schema._zod.def;
  if (def.type === "bigint") return true;
  if (def.type !== "literal") return false;
  const values = def.values as unknown[];
  return values.length > 0 && values.every((value) => typeof value === "bigint");
}

const dateNode: Node = {
  revive: (value) => (typeof value === "string" ? new Date(value) : value),
  encode: (value) => value,
};

const bigintNode: Node = {
  revive: (value) => (typeof value === "string" && /^-?\d+$/.test(value) ? BigInt(value) : value),
  encode: (value) => (typeof value === "bigint" ? value.toString() : value),
};

function arrayNode(itemAt: (index: number) => Node | undefined): Node {
  const map = (value: unknown, direction: "revive" | "encode", inPlace: boolean) => {
    if (!Array.isArray(value)) return value;
    const out = inPlace ? value : value.slice();
    for (let i = 0; i < out.length; i++) {
      const node = itemAt(i);
      if (node && out[i] !== null && out[i] !== undefined) out[i] = node[direction](out[i], inPlace);
    }
    return out;
  };
  return {
    revive: (value, inPlace) => map(value, "revive", inPlace),
    encode: (value, inPlace) => map(value, "encode", inPlace),
  };
}

/** `declared`: the shape's keys; only the others fall to the catchall's node `rest`. */
function objectNode(fields: ReadonlyMap<string, Node>, declared: ReadonlySet<string>, rest: Node | undefined): Node {
  const map = (value: unknown, direction: "revive" | "encode", inPlace: boolean) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
    const out = inPlace ? (value as Record<string, unknown>) : { ...(value as Record<string, unknown>) };
    if (rest === undefined) {
      for (const [key, node] of fields) {
        const item = out[key];
        if (item !== null && item !== undefined) out[key] = node[direction](item, inPlace);
      }
      return out;
    }
    for (const key of Object.keys(out)) {
      const node = declared.has(key) ? fields.get(key) : rest;
      const item = out[key];
      if (node && item !== null && item !== undefined) out[key] = node[direction](item, inPlace);
    }
    return out;
  };
  return {
    revive: (value, inPlace) => map(value, "revive", inPlace),
    encode: (value, inPlace) => map(value, "encode", inPlace),
  };
}
