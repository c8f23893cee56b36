import type { Node } from './ast.js';
import { FilterEvalError } from './errors.js';
import { compareDoubles, compareValues, javaEquals, negate, parseJavaDouble, type JValue } from './values.js';

/** Where property values come from (a message's properties; a Map fits). Absent means NULL. */
export interface PropertySource {
  get(name: string): string | undefined;
}

/**
 * Evaluates a node with upstream's semantics (`filter/expression/*`): three-valued logic where a
 * missing property is NULL ("unknown"); a comparison with NULL is unknown, except that `=` with
 * only the right side NULL is false; IS NULL is true only for a missing property. Comparisons
 * convert a string property to the other side's number or boolean type; `> >= < <=` between two
 * strings compare them as doubles. IN needs a string and is unknown for a missing property;
 * CONTAINS / STARTSWITH / ENDSWITH (and their NOT forms) are false for a missing property or an
 * empty search string. Throws FilterEvalError where upstream throws (a string that does not
 * parse as the number it is compared with), which callers treat as "no match".
 */
export function evaluate(n: Node, props: PropertySource): JValue {
  switch (n.kind) {
    case 'const':
      return n.value;
    case 'prop':
      return props.get(n.name) ?? null;
    case 'negate':
      return negate(evaluate(n.operand, props));
    case 'not': {
      const v = evaluate(n.operand, props);
      return v === null ? null : !v;
    }
    case 'cast': {
      const v = evaluate(n.operand, props);
      return v === null ? null : v === true;
    }
    case 'and': {
      let unknown = false;
      for (const o of n.operands) {
        const v = evaluate(o, props);
        if (v === false) return false;
        if (v === null) unknown = true;
      }
      return unknown ? null : true;
    }
    case 'or': {
      let unknown = false;
      for (const o of n.operands) {
        const v = evaluate(o, props);
        if (v === true) return true;
        if (v === null) unknown = true;
      }
      return unknown ? null : false;
    }
    case 'eq': {
      const lv = evaluate(n.left, props);
      const rv = evaluate(n.right, props);
      if (lv === null || rv === null) return lv === null ? (rv === null ? true : null) : false;
      if (javaEquals(lv, rv)) return true;
      return compareValues(lv, rv) === 0;
    }
    case 'gt': case 'ge': case 'lt': case 'le': {
      const lv = evaluate(n.left, props);
      if (lv === null) return null;
      const rv = evaluate(n.right, props);
      if (rv === null) return null;
      let c: number;
      if (typeof lv === 'string' && typeof rv === 'string') {
        let l: number;
        let r: number;
        try {
          l = parseJavaDouble(lv);
          r = parseJavaDouble(rv);
        } catch {
          throw new FilterEvalError(`it's illegal to compare strings by '>=', '>', '<', '<=' unless both are numbers: '${lv}', '${rv}'`);
        }
        c = compareDoubles(l, r);
      } else {
        c = compareValues(lv, rv);
      }
      switch (n.kind) {
        case 'gt': return c > 0;
        case 'ge': return c >= 0;
        case 'lt': return c < 0;
        default: return c <= 0;
      }
    }
    case 'in': {
      const v = evaluate(n.operand, props);
      if (typeof v !== 'string') return null;
      return n.values.has(v) !== n.not;
    }
    case 'contains': case 'startswith': case 'endswith': {
      if (n.search.length === 0) return false;
      const v = evaluate(n.operand, props);
      if (typeof v !== 'string') return false;
      const hit = n.kind === 'contains' ? v.includes(n.search) : n.kind === 'startswith' ? v.startsWith(n.search) : v.endsWith(n.search);
      return hit !== n.not;
    }
  }
}
