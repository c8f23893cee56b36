import type { ConstNode, LogicNode, Node, PropNode } from './ast.js';
import { isBooleanNode } from './ast.js';
import { FilterEvalError, parseErrorAt, type FilterErrorKind, type FilterParseError } from './errors.js';
import { tokenize, type Token, type TokenKind } from './lexer.js';
import { DEFAULT_FILTER_LIMITS, type FilterLimits } from './limits.js';
import { compareValues, DOUBLE_MAX_VALUE, DOUBLE_MIN_VALUE, formatValue, JDouble, JInt, JLong } from './values.js';

/**
 * Recursive-descent parser for upstream's SQL92 selector grammar (`SelectorParser.jj`):
 *
 *   selector   := or EOF
 *   or         := and (OR and)*
 *   and        := equality (AND equality)*
 *   equality   := comparison ( '=' comparison | '<>' comparison | IS NULL | IS NOT NULL )*
 *   comparison := unary ( ('>' | '>=' | '<' | '<=') unary
 *                       | [NOT] (CONTAINS | STARTSWITH | ENDSWITH) string
 *                       | [NOT] BETWEEN unary AND unary
 *                       | [NOT] IN '(' string (',' string)* ')' )*
 *   unary      := '+' unary | '-' unary | NOT unary | primary
 *   primary    := string | integer | float | TRUE | FALSE | NULL | identifier | '(' or ')'
 *
 * NOT as a prefix binds tighter than comparisons (`NOT a = 'x'` is `(NOT a) = 'x'`), as upstream.
 * Upstream's build-time checks are applied (e.g. `a = NULL`, `a > 'x'`, `a BETWEEN 5 AND 1`, IN on
 * a non-property, a number used as a condition are refused). Unlike upstream, which silently
 * ignores whatever follows the first complete expression, trailing tokens are an error.
 */
export function parseSql92(text: string, limits: FilterLimits = DEFAULT_FILTER_LIMITS): Node {
  if (text.length > limits.maxLength) {
    throw parseErrorAt(text, limits.maxLength, 'limit', `expression too long: ${text.length} characters, the limit is ${limits.maxLength}`);
  }
  return new Parser(text, tokenize(text), limits).parse();
}

const VALUE_START = 'a property name, a literal, "(", "+", "-" or NOT';
const AFTER_OPERAND = 'AND, OR, a comparison operator';
const PRIMARY_START: ReadonlySet<TokenKind> = new Set<TokenKind>(['STRING', 'DECIMAL', 'FLOAT', 'TRUE', 'FALSE', 'NULL', 'ID', '(']);

class Parser {
  private i = 0;
  private nesting = 0;

  constructor(private readonly text: string, private readonly toks: Token[], private readonly limits: FilterLimits) {}

  parse(): Node {
    const n = this.orExpr();
    const t = this.peek();
    if (t.kind !== 'EOF') throw this.unexpected(t, `${AFTER_OPERAND} or the end of the expression`);
    return this.asBoolean(n);
  }

  // ---- tokens ----

  private peek(ahead = 0): Token {
    return this.toks[Math.min(this.i + ahead, this.toks.length - 1)] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'EOF') this.i++;
    return t;
  }

  private expect(kind: TokenKind, what: string): Token {
    const t = this.peek();
    if (t.kind !== kind) throw this.unexpected(t, what);
    return this.next();
  }

  private error(offset: number, kind: FilterErrorKind, reason: string): FilterParseError {
    return parseErrorAt(this.text, offset, kind, reason);
  }

  private unexpected(t: Token, expected: string): FilterParseError {
    const found = t.kind === 'EOF' ? 'the end of the expression' : `"${t.image}"`;
    return this.error(t.start, 'syntax', `encountered ${found}; expected ${expected}`);
  }

  private src(n: Node): string {
    return this.text.slice(n.start, n.end);
  }

  // ---- node building with limits ----

  private made<T extends Node>(n: T): T {
    if (n.size > this.limits.maxNodes) {
      throw this.error(n.start, 'limit', `expression too complex: more than ${this.limits.maxNodes} nodes to evaluate (the limit)`);
    }
    if (n.depth > this.limits.maxDepth) {
      throw this.error(n.start, 'limit', `expression nested too deeply: more than ${this.limits.maxDepth} levels (the limit)`);
    }
    return n;
  }

  private leaf<T extends ConstNode | PropNode>(n: Omit<T, 'depth' | 'size'>): T {
    return this.made({ ...n, depth: 1, size: 1 } as T);
  }

  private unaryNode(kind: 'negate' | 'not' | 'cast', operand: Node, start: number): Node {
    return this.made({ kind, operand, start, end: operand.end, depth: operand.depth + 1, size: operand.size + 1 });
  }

  private binary(kind: 'eq' | 'gt' | 'ge' | 'lt' | 'le', left: Node, right: Node): Node {
    return this.made({
      kind, left, right, start: left.start, end: right.end,
      depth: Math.max(left.depth, right.depth) + 1, size: left.size + right.size + 1,
    });
  }

  /** AND / OR of two conditions, merged into an existing list of the same kind. */
  private logic(kind: 'and' | 'or', left: Node, right: Node): Node {
    const operands: Node[] = [];
    for (const n of [left, right]) {
      if (n.kind === kind) operands.push(...(n as LogicNode).operands);
      else operands.push(n);
    }
    let depth = 0;
    let size = 1;
    for (const o of operands) {
      depth = Math.max(depth, o.depth);
      size += o.size;
    }
    return this.made({ kind, operands, start: left.start, end: right.end, depth: depth + 1, size });
  }

  private enter(t: Token): void {
    if (++this.nesting > this.limits.maxDepth) {
      throw this.error(t.start, 'limit', `expression nested too deeply: more than ${this.limits.maxDepth} levels (the limit)`);
    }
  }

  // ---- upstream's build-time checks ----

  /** Upstream `asBooleanExpression`: conditions pass, a property becomes a boolean cast, anything else is refused. */
  private asBoolean(n: Node): Node {
    if (isBooleanNode(n)) return n;
    if (n.kind === 'prop') return this.unaryNode('cast', n, n.start);
    throw this.error(n.start, 'semantic', `expression will not result in a boolean value: ${this.src(n)}`);
  }

  private checkEqualOperand(n: Node, op: string): void {
    if (n.kind === 'const' && n.value === null) {
      throw this.error(n.start, 'semantic', `NULL cannot be compared with ${op}: use IS NULL or IS NOT NULL`);
    }
  }

  private equal(left: Node, right: Node, op: Token): Node {
    this.checkEqualOperand(left, op.image);
    this.checkEqualOperand(right, op.image);
    if (left.kind === 'const' && right.kind === 'const' && isBooleanNode(left) && !isBooleanNode(right)) {
      throw this.error(op.start, 'semantic', `${this.src(left)} cannot be compared with ${this.src(right)}`);
    }
    return this.binary('eq', left, right);
  }

  private checkRelationOperand(n: Node, op: string): void {
    if (n.kind === 'const') {
      if (n.value instanceof JInt || n.value instanceof JLong || n.value instanceof JDouble) return;
      throw this.error(n.start, 'semantic', `value ${this.src(n)} cannot be compared with ${op}: only numbers and properties can`);
    }
    if (isBooleanNode(n)) throw this.error(n.start, 'semantic', `value ${this.src(n)} is a condition and cannot be compared with ${op}`);
  }

  private relation(kind: 'gt' | 'ge' | 'lt' | 'le', left: Node, right: Node, op: string): Node {
    this.checkRelationOperand(left, op);
    this.checkRelationOperand(right, op);
    return this.binary(kind, left, right);
  }

  private between(value: Node, low: Node, high: Node, not: boolean, at: Token): Node {
    if (not) return this.logic('or', this.relation('lt', value, low, 'NOT BETWEEN'), this.relation('gt', value, high, 'NOT BETWEEN'));
    if (low.kind === 'const' && high.kind === 'const') {
      if (low.value === null || high.value === null) throw this.error(at.start, 'semantic', 'illegal values of BETWEEN: the bounds can not be NULL');
      let c: number;
      try {
        c = compareValues(high.value, low.value);
      } catch (e) {
        if (!(e instanceof FilterEvalError)) throw e;
        throw this.error(at.start, 'semantic', `illegal values of BETWEEN: ${e.message}`);
      }
      if (c < 0) {
        throw this.error(at.start, 'semantic', `illegal values of BETWEEN: the lower bound (${formatValue(low.value)}) must be less than or equal to the upper bound (${formatValue(high.value)})`);
      }
    }
    return this.logic('and', this.relation('ge', value, low, 'BETWEEN'), this.relation('le', value, high, 'BETWEEN'));
  }

  // ---- grammar ----

  private orExpr(): Node {
    let left = this.andExpr();
    while (this.peek().kind === 'OR') {
      this.next();
      const right = this.andExpr();
      left = this.logic('or', this.asBoolean(left), this.asBoolean(right));
    }
    return left;
  }

  private andExpr(): Node {
    let left = this.equalityExpr();
    while (this.peek().kind === 'AND') {
      this.next();
      const right = this.equalityExpr();
      left = this.logic('and', this.asBoolean(left), this.asBoolean(right));
    }
    return left;
  }

  private equalityExpr(): Node {
    let left = this.comparisonExpr();
    for (;;) {
      const t = this.peek();
      if (t.kind === '=' || t.kind === '<>') {
        this.next();
        const eq = this.equal(left, this.comparisonExpr(), t);
        left = t.kind === '=' ? eq : this.unaryNode('not', eq, eq.start);
      } else if (t.kind === 'IS') {
        this.next();
        const not = this.peek().kind === 'NOT';
        if (not) this.next();
        const nullTok = this.expect('NULL', not ? 'NULL after IS NOT' : 'NULL or NOT NULL after IS');
        const nullNode = this.leaf<ConstNode>({ kind: 'const', value: null, start: nullTok.start, end: nullTok.end });
        const eq = this.binary('eq', left, nullNode);
        left = not ? this.unaryNode('not', eq, eq.start) : eq;
      } else {
        return left;
      }
    }
  }

  private comparisonExpr(): Node {
    let left = this.unaryExpr();
    for (;;) {
      const t = this.peek();
      let not = false;
      let op = t;
      if (t.kind === 'NOT') {
        const k = this.peek(1).kind;
        if (k !== 'CONTAINS' && k !== 'STARTSWITH' && k !== 'ENDSWITH' && k !== 'BETWEEN' && k !== 'IN') return left;
        this.next();
        not = true;
        op = this.peek();
      }
      switch (op.kind) {
        case '>': case '>=': case '<': case '<=': {
          this.next();
          const kind = op.kind === '>' ? 'gt' : op.kind === '>=' ? 'ge' : op.kind === '<' ? 'lt' : 'le';
          left = this.relation(kind, left, this.unaryExpr(), op.image);
          break;
        }
        case 'CONTAINS': case 'STARTSWITH': case 'ENDSWITH': {
          this.next();
          const s = this.expect('STRING', `a string literal in single quotes after ${op.kind}`);
          left = this.made({
            kind: op.kind.toLowerCase() as 'contains' | 'startswith' | 'endswith', operand: left, search: s.value ?? '', not,
            start: left.start, end: s.end, depth: left.depth + 1, size: left.size + 1,
          });
          break;
        }
        case 'BETWEEN': {
          this.next();
          const low = this.unaryExpr();
          this.expect('AND', 'AND between the two bounds of BETWEEN');
          const high = this.unaryExpr();
          left = this.between(left, low, high, not, op);
          break;
        }
        case 'IN': {
          this.next();
          if (left.kind !== 'prop') throw this.error(left.start, 'semantic', `expected a property before ${not ? 'NOT IN' : 'IN'}, got: ${this.src(left)}`);
          this.expect('(', `"(" after ${not ? 'NOT IN' : 'IN'}`);
          const values = new Set<string>();
          let count = 0;
          for (;;) {
            const s = this.expect('STRING', `a string literal in single quotes in the ${not ? 'NOT IN' : 'IN'} list`);
            if (++count > this.limits.maxInListSize) {
              throw this.error(s.start, 'limit', `IN list too long: more than ${this.limits.maxInListSize} strings (the limit)`);
            }
            values.add(s.value ?? '');
            const sep = this.next();
            if (sep.kind === ')') {
              left = this.made({ kind: 'in', operand: left, values, not, start: left.start, end: sep.end, depth: 2, size: 2 });
              break;
            }
            if (sep.kind !== ',') throw this.unexpected(sep, `"," or ")" in the ${not ? 'NOT IN' : 'IN'} list`);
          }
          break;
        }
        default:
          return left;
      }
    }
  }

  private unaryExpr(): Node {
    const t = this.peek();
    if (t.kind === '+' || t.kind === '-' || t.kind === 'NOT') {
      this.enter(t);
      this.next();
      const operand = this.unaryExpr();
      this.nesting--;
      if (t.kind === '+') return operand;
      if (t.kind === '-') return this.unaryNode('negate', operand, t.start);
      return this.unaryNode('not', this.asBoolean(operand), t.start);
    }
    return this.primaryExpr();
  }

  private primaryExpr(): Node {
    const t = this.peek();
    if (!PRIMARY_START.has(t.kind)) throw this.unexpected(t, VALUE_START);
    this.next();
    switch (t.kind) {
      case 'STRING': return this.leaf<ConstNode>({ kind: 'const', value: t.value ?? '', start: t.start, end: t.end });
      case 'DECIMAL': return this.leaf<ConstNode>({ kind: 'const', value: this.decimal(t), start: t.start, end: t.end });
      case 'FLOAT': return this.leaf<ConstNode>({ kind: 'const', value: this.float(t), start: t.start, end: t.end });
      case 'TRUE': return this.leaf<ConstNode>({ kind: 'const', value: true, start: t.start, end: t.end });
      case 'FALSE': return this.leaf<ConstNode>({ kind: 'const', value: false, start: t.start, end: t.end });
      case 'NULL': return this.leaf<ConstNode>({ kind: 'const', value: null, start: t.start, end: t.end });
      case 'ID': return this.leaf<PropNode>({ kind: 'prop', name: t.image, start: t.start, end: t.end });
      case '(': {
        this.enter(t);
        const e = this.orExpr();
        this.expect(')', `")" or ${AFTER_OPERAND}`);
        this.nesting--;
        return e;
      }
      default:
        throw this.unexpected(t, VALUE_START);
    }
  }

  /** Upstream `createFromDecimal`: an optional L is dropped; int when it fits, else long; beyond long is an error. */
  private decimal(t: Token): JInt | JLong {
    const digits = /[lL]$/.test(t.image) ? t.image.slice(0, -1) : t.image;
    const v = BigInt(digits);
    if (v > 2n ** 63n - 1n) throw this.error(t.start, 'semantic', `integer literal ${t.image} is out of the range of a Java long`);
    return v <= 2147483647n ? new JInt(Number(v)) : new JLong(v);
  }

  /**
   * Upstream `createFloat`: a double; one that overflows is refused, and so is one below
   * Double.MIN_VALUE, which upstream's check also applies to zero (`0.0` is refused; write `0`).
   */
  private float(t: Token): JDouble {
    const v = Number(t.image);
    if (v > DOUBLE_MAX_VALUE) throw this.error(t.start, 'semantic', `floating-point literal ${t.image} is greater than 1.7976931348623157E308`);
    if (v < DOUBLE_MIN_VALUE) throw this.error(t.start, 'semantic', `floating-point literal ${t.image} is less than 4.9E-324 (upstream refuses zero floating-point literals; write 0)`);
    return new JDouble(v);
  }
}
