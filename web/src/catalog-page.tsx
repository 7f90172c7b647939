import { useCallback, useEffect, useState } from 'react';
import { Unauthorized } from './api';
import { fmtBytes, fmtInt } from './format';
import { type Catalog, type CatalogColumn, type CatalogTable, sqlApi } from './sql-api';
import { messageOf } from './use-api-action';
import { Card, Counter } from './widgets';
import './sql-page.css';

/** Partitions listed before "Show all": two days of hours. */
const FIRST_PARTITIONS = 48;

const when = (t: number | null | undefined) => {
  if (t === null || t === undefined) return '—';
  const s = (Date.now() - t) / 1000;
  const rel =
    s < 0
      ? 'in the future'
      : s < 90
        ? 'just now'
        : s < 5400
          ? `${Math.round(s / 60)} min ago`
          : s < 172800
            ? `${Math.round(s / 3600)} h ago`
            : `${Math.round(s / 86400)} days ago`;
  return `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC (${rel})`;
};

/** What a reader should know about a column: where it comes from, and whether old files lack it. */
function Note(props: { c: CatalogColumn; files: number }) {
  const { c, files } = props;
  const muted: string[] = [];
  if (c.partition) muted.push('partition (from the directory name)');
  if (!c.partition && c.files < files)
    muted.push(`in ${fmtInt(c.files)} of ${fmtInt(files)} files; the others read NULL`);
  if (c.types) muted.push(`type changed: ${c.types.join(' → ')}`);
  return (
    <td className="note">
      {c.addedOn && <span className="added">added on {c.addedOn}</span>}
      {c.addedOn && muted.length > 0 && ' · '}
      <span className="muted">{muted.join(' · ')}</span>
    </td>
  );
}

function TableCard(props: { table: CatalogTable }) {
  const t = props.table;
  const [all, setAll] = useState(false);
  const parts = all ? t.partitions : t.partitions.slice(0, FIRST_PARTITIONS);
  const newest = Object.entries(t.freshness.newest);
  return (
    <section className="card catalog-table" data-testid={`catalog-${t.name}`}>
      <h2 className="code">{t.name}</h2>
      <div className="counters">
        <Counter label="Rows" value={fmtInt(t.rows)} testId={`catalog-${t.name}-rows`} />
        <Counter
          label="Files"
          value={fmtInt(t.files)}
          hint={`${fmtInt(t.partitions.length)} partitions`}
          testId={`catalog-${t.name}-files`}
        />
        <Counter
          label="Size"
          value={t.bytes === 0 ? '0' : fmtBytes(t.bytes)}
          testId={`catalog-${t.name}-bytes`}
        />
      </div>
      <dl className="facts" data-testid={`catalog-${t.name}-freshness`}>
        {newest.map(([col, v]) => (
          <div key={col} style={{ display: 'contents' }}>
            <dt>
              newest <span className="code">{col}</span>
            </dt>
            <dd>{when(v)}</dd>
          </div>
        ))}
        <dt>last file written</dt>
        <dd>{when(t.freshness.lastWriteAt)}</dd>
      </dl>
      {t.unreadable.length > 0 && (
        <p className="error small" role="alert">
          {t.unreadable.length} file(s) could not be read and are not counted:{' '}
          {t.unreadable.map((u) => `${u.file} (${u.reason})`).join('; ')}
        </p>
      )}
      <div className="catalog-cols">
        <div>
          <h3>Columns</h3>
          <div className="table-scroll">
            <table data-testid={`catalog-${t.name}-columns`}>
              <thead>
                <tr>
                  <th>Column</th>
                  <th>Type</th>
                  <th>Notes</th>
                </tr>
              </thead>
              <tbody>
                {t.columns.map((c) => (
                  <tr key={c.name}>
                    <td className="code">{c.name}</td>
                    <td className="code muted">{c.type}</td>
                    <Note c={c} files={t.files} />
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
        <div>
          <h3>Partitions (newest first)</h3>
          {t.partitions.length === 0 ? (
            <p className="muted small">No files yet.</p>
          ) : (
            <>
              <div className="table-scroll">
                <table data-testid={`catalog-${t.name}-partitions`}>
                  <thead>
                    <tr>
                      <th>dt</th>
                      <th>hour</th>
                      <th>Rows</th>
                      <th>Files</th>
                      <th>Size</th>
                    </tr>
                  </thead>
                  <tbody>
                    {parts.map((p) => (
                      <tr key={`${p.dt}/${p.hour}`}>
                        <td>{p.dt}</td>
                        <td>{String(p.hour).padStart(2, '0')}</td>
                        <td className="num">{fmtInt(p.rows)}</td>
                        <td className="num">{fmtInt(p.files)}</td>
                        <td className="num">{fmtBytes(p.bytes)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {t.partitions.length > FIRST_PARTITIONS && (
                <button type="button" className="ghost" onClick={() => setAll(!all)}>
                  {all ? 'Show the newest only' : `Show all ${fmtInt(t.partitions.length)}`}
                </button>
              )}
            </>
          )}
        </div>
      </div>
    </section>
  );
}

/** What the lake holds (Glue's catalog): tables, columns and when they appeared, partitions, freshness. */
export function CatalogPage(props: { onUnauthorized: () => void }) {
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const { onUnauthorized } = props;
  const load = useCallback(() => {
    setLoading(true);
    sqlApi
      .catalog()
      .then(
        (c) => {
          setCatalog(c);
          setError(null);
        },
        (err) => (err instanceof Unauthorized ? onUnauthorized() : setError(messageOf(err))),
      )
      .finally(() => setLoading(false));
  }, [onUnauthorized]);
  useEffect(load, [load]);

  return (
    <main className="page catalog" data-testid="catalog-page">
      <div className="status-line">
        <button type="button" className="ghost" onClick={load} disabled={loading}>
          {loading ? 'Refreshing…' : 'Refresh'}
        </button>
        {catalog && (
          <span className="muted small">
            Read in {catalog.elapsedMs} ms ({fmtInt(catalog.filesRead)} new file footers); row counts come
            from Parquet metadata.
          </span>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!catalog && !error && <p className="muted">Loading the catalog…</p>}
      {catalog?.tables.map((t) => (
        <TableCard key={t.name} table={t} />
      ))}
      {catalog && (
        <Card title="Reading the lake elsewhere">
          <p className="small">
            The lake is Hive-partitioned Parquet (
            <span className="code">lake/&lt;table&gt;/dt=YYYY-MM-DD/hour=HH/*.parquet</span>). Read it with{' '}
            <span className="code">union_by_name</span> so files written before a column existed read it as
            NULL.
          </p>
        </Card>
      )}
    </main>
  );
}
