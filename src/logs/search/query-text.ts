/**
 * Checks and adapts query text before liqe parses it, so that every mistake gets a message and
 * the position in the text the user typed:
 *  - unbalanced quotes and parentheses are found here (liqe reports them without a position);
 *  - `bytes>10000` is accepted as liqe's `bytes:>10000`;
 *  - unquoted values starting with `/` (paths) are quoted, since liqe reads `/…/` as a regex;
 *    they keep unquoted meaning (wildcards apply), which `autoQuoted` records by position.
 */

export class LogQueryError extends Error {
  constructor(
    message: string,
    /** 0-based character offset in the query as typed. */
    readonly position: number,
  ) {
    super(`${message} (at position ${position + 1})`);
  }
}

export interface PreparedQuery {
  text: string;
  /** Offset in the original query for each offset in `text` (plus one past the end). */
  origin: number[];
  /** Start offsets (in `text`) of values quoted here that should act unquoted. */
  autoQuoted: Set<number>;
}

export function checkBalance(q: string): void {
  const open: number[] = [];
  for (let i = 0; i < q.length; i++) {
    const c = q[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const start = i;
      i++;
      while (i < q.length && q[i] !== c) i += q[i] === '\\' ? 2 : 1;
      if (i >= q.length) throw new LogQueryError(`unclosed quote ${c}`, start);
    } else if ((c === '[' || c === '{') && i > 0 && q[i - 1] === ':') {
      const close = q.slice(i).search(/[\]}]/);
      if (close < 0) throw new LogQueryError(`range "${c}" is never closed with "]" or "}"`, i);
      i += close;
    } else if (c === '(') open.push(i);
    else if (c === ')') {
      if (open.length === 0) throw new LogQueryError('")" without a matching "("', i);
      open.pop();
    }
  }
  if (open.length > 0) throw new LogQueryError('"(" is never closed', open[open.length - 1]);
}

const PLAIN = /^[A-Za-z0-9_*?]+$/;
const OPERATOR = /^(AND|OR|NOT)$/;

export function prepareQuery(q: string): PreparedQuery {
  checkBalance(q);
  let text = '';
  const origin: number[] = [];
  const autoQuoted = new Set<number>();
  const push = (s: string, at: number) => {
    text += s;
    for (let k = 0; k < s.length; k++) origin.push(at);
  };
  /** Emits q[from, to) as a quoted value that keeps unquoted meaning. */
  const quote = (from: number, to: number) => {
    autoQuoted.add(text.length);
    push('"', from);
    for (let k = from; k < to; k++) {
      if (q[k] === '"' || q[k] === '\\') push('\\', k);
      push(q[k], k);
    }
    push('"', Math.max(from, to - 1));
  };
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < q.length && q[j] !== c) j += q[j] === '\\' ? 2 : 1;
      for (let k = i; k <= j && k < q.length; k++) push(q[k], k);
      i = j + 1;
      continue;
    }
    if (/[\s()]/.test(c) || (c === '-' && (i === 0 || /[\s(]/.test(q[i - 1])))) {
      push(c, i);
      i++;
      continue;
    }
    // A bare token: up to whitespace, a closing parenthesis or a quote.
    let end = i;
    while (end < q.length && !/[\s)"']/.test(q[end])) end++;
    const token = q.slice(i, end);
    const field = /^([A-Za-z_@][\w.@]*)(:(?:>=|<=|>|<|=)?|>=|<=|>|<)/.exec(token);
    const next = q[i + (field?.[0].length ?? 0)] ?? '';
    if (field && field[2] === ':' && (next === '[' || next === '{')) {
      // field:[a TO b] is copied through to its closing bracket
      const close = q.indexOf(next === '[' ? ']' : '}', i);
      const stop = close < 0 ? q.length : close + 1;
      for (let k = i; k < stop; k++) push(q[k], k);
      i = stop;
      continue;
    }
    if (field && !(field[2] === ':' && next === '(')) {
      // field:value, field:>value, field>value (liqe wants the colon)
      push(field[1], i);
      const op = field[2].startsWith(':') ? field[2] : `:${field[2]}`;
      push(op, i + field[1].length);
      const v = i + field[0].length;
      if (v < end) quote(v, end);
      i = end;
      continue;
    }
    if (field || OPERATOR.test(token) || PLAIN.test(token) || token === '') {
      for (let k = i; k < end; k++) push(q[k], k);
    } else quote(i, end);
    i = end;
  }
  origin.push(q.length);
  return { text, origin, autoQuoted };
}
