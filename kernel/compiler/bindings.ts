/**
 * The binding registry (contract C2): every top-level binding of every successful cell, the
 * newest definition of a name winning. The type checker builds each cell's import header from
 * it, and the `%pool` magics read it to ship functions, classes and imports to workers.
 * Current values are not kept here: they live in the session's global scope (`globalThis[name]`).
 */

export type BindingKind =
  | "const" | "let" | "var" | "function" | "class" | "enum" | "import" | "type" | "interface" | "namespace";

export interface Binding {
  name: string;
  kind: BindingKind;
  /** Execution count of the declaring cell. */
  cell: number;
  /** function/class/enum: standalone transpiled JS of the declaration, e.g. "function f(x) { return g(x); }". */
  js?: string;
  /** import: absolute file: URL (or "node:crypto") and 'default' | '*' | an export name. */
  importSpec?: { url: string; imported: string };
  /** let/var: the declaring cell also declared the name as a type or namespace (`interface X {}` with `let X: X`). */
  alsoType?: boolean;
  /** Declared with `declare` (or type-only): the name has no value in the kernel. */
  ambient?: true;
}

export class BindingRegistry {
  readonly #byName = new Map<string, Binding & { module: string }>();

  get(name: string): Binding | undefined {
    const b = this.#byName.get(name);
    if (!b) return undefined;
    const { module: _module, ...binding } = b;
    return binding;
  }

  all(): Binding[] {
    return [...this.#byName.keys()].map((n) => this.get(n)!);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /**
   * Record the bindings of a cell that ran. `module` is the type checker's virtual module that
   * exports them (e.g. "./__cell_7"), which later cells import them from.
   */
  define(bindings: Binding[], module: string): void {
    for (const b of bindings) {
      this.#byName.delete(b.name); // re-insert so iteration order follows definition order
      this.#byName.set(b.name, { ...b, module });
    }
  }

  /** The virtual module that currently provides `name` to the type checker. */
  moduleOf(name: string): string | undefined {
    return this.#byName.get(name)?.module;
  }
}
