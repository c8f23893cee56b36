import type { JValue } from './values.js';

/**
 * Syntax tree of a SQL92 filter, shaped like upstream's expression objects (so upstream's
 * build-time checks apply unchanged): `a <> b` is NOT(a = b), `a IS NULL` is a = NULL without
 * the NULL check, `x BETWEEN l AND h` is (x >= l AND x <= h), `x NOT BETWEEN l AND h` is
 * (x < l OR x > h). AND and OR chains are kept as lists (three-valued AND / OR are associative and
 * evaluated left to right either way), so long chains do not nest.
 */
export type Node =
  | ConstNode
  | PropNode
  | NegateNode
  | NotNode
  | CastNode
  | LogicNode
  | EqualNode
  | RelationNode
  | InNode
  | StringTestNode;

interface Base {
  /** Source span, 0-based [start, end). */
  start: number;
  end: number;
  /** Height of the subtree (a leaf is 1). */
  depth: number;
  /** Nodes evaluated for this subtree in the worst case (a subtree BETWEEN repeats counts twice). */
  size: number;
}

export interface ConstNode extends Base { kind: 'const'; value: JValue }
export interface PropNode extends Base { kind: 'prop'; name: string }
export interface NegateNode extends Base { kind: 'negate'; operand: Node }
/** Boolean NOT (three-valued: NOT unknown is unknown). */
export interface NotNode extends Base { kind: 'not'; operand: Node }
/** A property used where a boolean is needed: true only if the value is a boolean true (never, for string properties). */
export interface CastNode extends Base { kind: 'cast'; operand: Node }
export interface LogicNode extends Base { kind: 'and' | 'or'; operands: Node[] }
export interface EqualNode extends Base { kind: 'eq'; left: Node; right: Node }
export interface RelationNode extends Base { kind: 'gt' | 'ge' | 'lt' | 'le'; left: Node; right: Node }
export interface InNode extends Base { kind: 'in'; operand: PropNode; values: ReadonlySet<string>; not: boolean }
export interface StringTestNode extends Base { kind: 'contains' | 'startswith' | 'endswith'; operand: Node; search: string; not: boolean }

/** Upstream's `BooleanExpression`: what can stand as a condition. TRUE, FALSE and NULL literals are. */
export function isBooleanNode(n: Node): boolean {
  switch (n.kind) {
    case 'const': return n.value === null || typeof n.value === 'boolean';
    case 'prop':
    case 'negate': return false;
    default: return true;
  }
}

/** Property names the expression reads. */
export function propertyNames(n: Node, out: Set<string> = new Set()): Set<string> {
  switch (n.kind) {
    case 'prop': out.add(n.name); break;
    case 'const': break;
    case 'negate': case 'not': case 'cast': case 'in': case 'contains': case 'startswith': case 'endswith':
      propertyNames(n.operand, out); break;
    case 'and': case 'or': for (const o of n.operands) propertyNames(o, out); break;
    default: propertyNames(n.left, out); propertyNames(n.right, out); break;
  }
  return out;
}
