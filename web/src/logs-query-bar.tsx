import { useState } from 'react';
import { FIELD_NAMES, SYNTAX_EXAMPLES } from './logs-query';

/** The query as typed with a caret under the position the server's parser pointed at. */
export function QueryError({
  q,
  message,
  position,
}: {
  q: string;
  message: string;
  position: number | null;
}) {
  const at = position === null ? null : Math.max(0, Math.min(position, q.length));
  return (
    <div className="logs-query-error" role="alert" data-testid="logs-query-error">
      <p className="error">{message}</p>
      {at !== null && (
        <pre className="logs-caret-view" data-testid="logs-query-error-position" data-position={at}>
          {q.slice(0, at)}
          <mark className="logs-error-at">{q.slice(at, at + 1) || ' '}</mark>
          {q.slice(at + 1)}
          {'\n'}
          {' '.repeat(at)}^ position {at + 1}
        </pre>
      )}
    </div>
  );
}

export function QueryBar(props: { value: string; onChange: (v: string) => void; onSubmit: () => void }) {
  const [help, setHelp] = useState(false);
  return (
    <form
      className="logs-query"
      aria-label="Search logs"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSubmit();
      }}
    >
      <label className="logs-query-input">
        <span className="sr-only">Log query</span>
        <input
          type="search"
          value={props.value}
          placeholder='status:404 AND NOT path:"/robots.txt"'
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => props.onChange(e.target.value)}
          data-testid="logs-query"
        />
      </label>
      <button type="submit" data-testid="logs-search">
        Search
      </button>
      <button
        type="button"
        className="ghost"
        aria-expanded={help}
        aria-controls="logs-syntax"
        onClick={() => setHelp((h) => !h)}
        data-testid="logs-syntax-toggle"
      >
        Syntax
      </button>
      {help && (
        <div id="logs-syntax" className="logs-syntax card" data-testid="logs-syntax">
          <p className="small muted">Click an example to use it.</p>
          <ul>
            {SYNTAX_EXAMPLES.map(([example, what]) => (
              <li key={example}>
                <button
                  type="button"
                  className="ghost logs-example"
                  onClick={() => {
                    props.onChange(example);
                    setHelp(false);
                  }}
                >
                  <code>{example}</code>
                </button>{' '}
                <span className="small muted">{what}</span>
              </li>
            ))}
          </ul>
          <p className="small muted">Fields: {FIELD_NAMES}</p>
        </div>
      )}
    </form>
  );
}
