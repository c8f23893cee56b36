/**
 * SQL92 message filters (upstream `rocketmq-filter`): a tokenizer and recursive-descent parser
 * for the selector grammar, an evaluator over message properties, a bounded cache of compiled
 * expressions, and limits that bound what one expression may cost.
 */
export type { Node } from './ast.js';
export { compileSql92, compileSql92Uncached, clearSql92Cache, sql92CacheSize, Sql92Expression, SQL92_CACHE_SIZE, tryCompileSql92 } from './compile.js';
export { FilterEvalError, FilterParseError, type FilterErrorKind } from './errors.js';
export { evaluate, type PropertySource } from './evaluator.js';
export { tokenize, type Token, type TokenKind } from './lexer.js';
export { DEFAULT_FILTER_LIMITS, type FilterLimits } from './limits.js';
export { parseSql92 } from './parser.js';
export { JDouble, JInt, JLong, type JValue } from './values.js';
