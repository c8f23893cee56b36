import type { Node } from '../../src/filter/index.js';
import { JDouble, JInt, JLong } from '../../src/filter/index.js';

/** A syntax tree as an S-expression, literal types marked: 5 int, 5L long, 5D double. */
export function show(n: Node): string {
  switch (n.kind) {
    case 'const': {
      const v = n.value;
      if (v === null) return 'NULL';
      if (v === true) return 'TRUE';
      if (v === false) return 'FALSE';
      if (typeof v === 'string') return `'${v}'`;
      if (v instanceof JInt) return String(v.v);
      if (v instanceof JLong) return `${v.v}L`;
      if (v instanceof JDouble) return `${v.v}D`;
      return '?';
    }
    case 'prop': return n.name;
    case 'negate': return `(- ${show(n.operand)})`;
    case 'not': return `(NOT ${show(n.operand)})`;
    case 'cast': return `(bool ${show(n.operand)})`;
    case 'and': case 'or': return `(${n.kind.toUpperCase()} ${n.operands.map(show).join(' ')})`;
    case 'eq': return `(= ${show(n.left)} ${show(n.right)})`;
    case 'gt': return `(> ${show(n.left)} ${show(n.right)})`;
    case 'ge': return `(>= ${show(n.left)} ${show(n.right)})`;
    case 'lt': return `(< ${show(n.left)} ${show(n.right)})`;
    case 'le': return `(<= ${show(n.left)} ${show(n.right)})`;
    case 'in': return `(${n.not ? 'NOT IN' : 'IN'} ${show(n.operand)} ${[...n.values].map((v) => `'${v}'`).join(' ')})`;
    default: return `(${n.not ? 'NOT ' : ''}${n.kind.toUpperCase()} ${show(n.operand)} '${n.search}')`;
  }
}
