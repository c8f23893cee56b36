import { propertyNames, type Node } from './ast.js';
import { FilterEvalError, FilterParseError } from './errors.js';
import { evaluate, type PropertySource } from './evaluator.js';
import { DEFAULT_FILTER_LIMITS, type FilterLimits } from './limits.js';
import { parseSql92 } from './parser.js';

/** A parsed SQL92 filter, ready to test messages. */
export class Sql92Expression {
  /** Property names the expression reads (`TAGS` included when used). */
  readonly properties: ReadonlySet<string>;

  constructor(readonly text: string, readonly ast: Node) {
    this.properties = propertyNames(ast);
  }

  /**
   * The three-valued result: true, false, or null (unknown). Throws FilterEvalError where upstream
   * throws (e.g. comparing `'abc'` with a number).
   */
  evaluate(props: PropertySource): boolean | null {
    const v = evaluate(this.ast, props);
    return typeof v === 'boolean' ? v : null;
  }

  /** True only when the expression is true for these properties; unknown and errors are no match. */
  matches(props: PropertySource): boolean {
    try {
      return evaluate(this.ast, props) === true;
    } catch (e) {
      if (e instanceof FilterEvalError) return false;
      throw e;
    }
  }
}

/** Compiles without the cache; throws FilterParseError. */
export function compileSql92Uncached(text: string, limits: FilterLimits = DEFAULT_FILTER_LIMITS): Sql92Expression {
  return new Sql92Expression(text, parseSql92(text, limits));
}

/** Entries kept by the compiled-expression cache (upstream keeps 100). */
export const SQL92_CACHE_SIZE = 256;

/** Compiled expressions and parse failures by expression text, least recently used evicted first. */
const cache = new Map<string, Sql92Expression | FilterParseError>();

/**
 * Compiles an expression with the default limits, through a bounded cache keyed by its text
 * (failures are cached too, as upstream does). Throws FilterParseError.
 */
export function compileSql92(text: string): Sql92Expression {
  let hit = cache.get(text);
  if (hit !== undefined) {
    cache.delete(text);
    cache.set(text, hit);
  } else {
    try {
      hit = compileSql92Uncached(text);
    } catch (e) {
      if (!(e instanceof FilterParseError)) throw e;
      hit = e;
    }
    // Only texts within the length limit are kept, so the cache's memory is bounded too.
    if (text.length <= DEFAULT_FILTER_LIMITS.maxLength) {
      cache.set(text, hit);
      if (cache.size > SQL92_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    }
  }
  if (hit instanceof FilterParseError) throw hit;
  return hit;
}

/** Like compileSql92, but answers the parse error instead of throwing it. */
export function tryCompileSql92(text: string): { expr: Sql92Expression; error?: undefined } | { expr?: undefined; error: FilterParseError } {
  try {
    return { expr: compileSql92(text) };
  } catch (e) {
    if (e instanceof FilterParseError) return { error: e };
    throw e;
  }
}

/** Number of cached entries (for tests). */
export function sql92CacheSize(): number {
  return cache.size;
}

/** Empties the cache (for tests). */
export function clearSql92Cache(): void {
  cache.clear();
}
