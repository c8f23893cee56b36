/**
 * Errors of the SQL92 filter. A parse error carries where it happened (1-based line and column,
 * 0-based offset into the expression text); an evaluation error means "this message does not
 * match" to the broker, as upstream treats any exception thrown while evaluating.
 */

/** Why an expression was refused: bad syntax, an ill-typed construct, or a cost limit. */
export type FilterErrorKind = 'lexical' | 'syntax' | 'semantic' | 'limit';

export class FilterParseError extends Error {
  override readonly name = 'FilterParseError';

  constructor(
    /** The reason alone, without the position. */
    readonly reason: string,
    readonly kind: FilterErrorKind,
    /** 0-based offset into the expression text. */
    readonly offset: number,
    /** 1-based. */
    readonly line: number,
    /** 1-based; a tab counts as one column. */
    readonly column: number,
  ) {
    super(`${reason} (at line ${line}, column ${column})`);
  }
}

/** Thrown while evaluating (e.g. a property that is not a number compared with a number). */
export class FilterEvalError extends Error {
  override readonly name = 'FilterEvalError';
}

/** 1-based line and column of `offset` in `text`; `\r\n`, `\r` and `\n` each end a line. */
export function lineColumnOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

export function parseErrorAt(text: string, offset: number, kind: FilterErrorKind, reason: string): FilterParseError {
  const { line, column } = lineColumnOf(text, offset);
  return new FilterParseError(reason, kind, offset, line, column);
}
