/**
 * Bounds on what a subscription expression may cost. Upstream has none; here an expression
 * beyond any of them is refused at parse time (SUBSCRIPTION_PARSE_FAILED), so evaluating one
 * message stays proportional to a small, fixed number of nodes.
 */
export interface FilterLimits {
  /** Characters of expression text. */
  maxLength: number;
  /** Nodes of the syntax tree (operators, properties and literals; IN-list entries not included). */
  maxNodes: number;
  /** Nesting depth of the syntax tree (parentheses, unary operators, chained comparisons). */
  maxDepth: number;
  /** Strings in one IN / NOT IN list. */
  maxInListSize: number;
}

export const DEFAULT_FILTER_LIMITS: Readonly<FilterLimits> = Object.freeze({
  maxLength: 8192,
  maxNodes: 1024,
  maxDepth: 64,
  maxInListSize: 1024,
});
