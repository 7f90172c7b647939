import {
  autocompletion,
  closeBrackets,
  closeBracketsKeymap,
  completionKeymap,
} from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { PostgreSQL, type SQLNamespace, sql } from '@codemirror/lang-sql';
import { bracketMatching, HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { Compartment, EditorState } from '@codemirror/state';
import { EditorView, keymap, lineNumbers, placeholder } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { useEffect, useRef } from 'react';
import type { CatalogTable } from './sql-api';

/** Colours from the page's CSS variables, so one style serves both themes. */
const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: 'var(--c5)', fontWeight: '600' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--c2)' },
  { tag: [tags.number, tags.bool, tags.null], color: 'var(--c3)' },
  { tag: [tags.lineComment, tags.blockComment], color: 'var(--muted)', fontStyle: 'italic' },
  { tag: [tags.typeName, tags.standard(tags.name)], color: 'var(--c6)' },
  { tag: tags.operator, color: 'var(--c4)' },
]);

const theme = EditorView.theme({
  '&': {
    backgroundColor: 'var(--card)',
    color: 'var(--fg)',
    border: '1px solid var(--border)',
    borderRadius: '6px',
  },
  '&.cm-focused': { outline: '2px solid var(--accent)', outlineOffset: '-1px' },
  '.cm-content': {
    fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
    caretColor: 'var(--fg)',
  },
  '.cm-scroller': { minHeight: '9rem', maxHeight: '22rem', overflow: 'auto' },
  '.cm-gutters': {
    backgroundColor: 'var(--bg)',
    color: 'var(--muted)',
    border: 'none',
    borderRadius: '6px 0 0 6px',
  },
  '.cm-activeLine': { backgroundColor: 'transparent' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground': { backgroundColor: 'var(--bar)' },
  '.cm-tooltip': { backgroundColor: 'var(--card)', color: 'var(--fg)', border: '1px solid var(--border)' },
  '.cm-tooltip-autocomplete ul li[aria-selected]': {
    backgroundColor: 'var(--accent)',
    color: 'var(--accent-fg)',
  },
  '.cm-completionDetail': { color: 'inherit', opacity: 0.7, marginLeft: '0.6em' },
});

/** Tables and their columns (with types) for completion; `events` columns complete without a prefix. */
export function schemaOf(tables: CatalogTable[]): SQLNamespace {
  return Object.fromEntries(
    tables.map((t) => [t.name, t.columns.map((c) => ({ label: c.name, type: 'property', detail: c.type }))]),
  );
}

export interface SqlEditorProps {
  value: string;
  onChange: (sql: string) => void;
  /** Ctrl+Enter / Cmd+Enter. */
  onRun: () => void;
  tables: CatalogTable[];
  /** Filled with a function that types text at the cursor (table and column names from a list). */
  insertRef?: { current: ((text: string) => void) | null };
}

/**
 * CodeMirror 6 with DuckDB-ish (PostgreSQL) highlighting and completion of keywords, tables and
 * columns. The parent owns the text: a change from outside (history, saved query) replaces it.
 */
export function SqlEditor(props: SqlEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const language = useRef(new Compartment());
  // The latest callbacks, read by the editor's handlers without re-creating the editor.
  const latest = useRef(props);
  latest.current = props;

  // biome-ignore lint/correctness/useExhaustiveDependencies: created once; later values arrive through the effects below
  useEffect(() => {
    if (!host.current) return;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: props.value,
        extensions: [
          lineNumbers(),
          history(),
          bracketMatching(),
          closeBrackets(),
          autocompletion(),
          syntaxHighlighting(highlight),
          placeholder('SELECT … FROM events — Ctrl+Enter runs'),
          language.current.of(
            sql({ dialect: PostgreSQL, schema: schemaOf(props.tables), defaultTable: 'events' }),
          ),
          keymap.of([
            {
              key: 'Mod-Enter',
              run: () => {
                latest.current.onRun();
                return true;
              },
              preventDefault: true,
            },
            ...closeBracketsKeymap,
            ...completionKeymap,
            ...historyKeymap,
            ...defaultKeymap,
            indentWithTab,
          ]),
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ 'aria-label': 'SQL query', 'data-testid': 'sql-editor-input' }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) latest.current.onChange(u.state.doc.toString());
          }),
          theme,
        ],
      }),
    });
    view.current = v;
    if (props.insertRef) {
      props.insertRef.current = (text) => {
        v.dispatch(v.state.replaceSelection(text));
        v.focus();
      };
    }
    return () => {
      v.destroy();
      view.current = null;
    };
  }, []);

  useEffect(() => {
    const v = view.current;
    if (!v || v.state.doc.toString() === props.value) return;
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: props.value } });
  }, [props.value]);

  useEffect(() => {
    view.current?.dispatch({
      effects: language.current.reconfigure(
        sql({ dialect: PostgreSQL, schema: schemaOf(props.tables), defaultTable: 'events' }),
      ),
    });
  }, [props.tables]);

  return <div className="sql-editor" ref={host} data-testid="sql-editor" />;
}
