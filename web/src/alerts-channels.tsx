import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { ConfirmButton, fmtWhen, InlineError } from './admin-widgets';
import {
  alertsApi,
  CHANNEL_TYPES,
  type Channel,
  type ChannelType,
  type DeliveryFailure,
  type Severity,
} from './alerts-api';
import type { Session } from './api-types';
import { useApiAction } from './use-api-action';

const TYPE_LABEL: Record<ChannelType, string> = {
  webhook: 'Webhook (signed JSON)',
  slack: 'Slack incoming webhook',
  email: 'E-mail',
  alertmanager: 'Prometheus Alertmanager',
};
const PLACEHOLDER: Record<ChannelType, string> = {
  webhook: 'https://hooks.example/storepulse',
  slack: 'https://hooks.slack.com/services/…',
  email: 'oncall@shop.example, owner@shop.example',
  alertmanager: 'http://alertmanager.internal:9093',
};

/** Where notifications go (admins only): add, test and remove channels; failed deliveries. */
export function Channels(props: { site: string; session: Session; onUnauthorized: () => void }) {
  const list = useApiAction(props.onUnauthorized);
  const [data, setData] = useState<{ channels: Channel[]; failures: DeliveryFailure[] } | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const reload = useCallback(() => list.run(async () => setData(await alertsApi.channels())), [list.run]);
  useEffect(() => {
    void reload();
  }, [reload]);

  const test = (c: Channel) =>
    list.run(async () => {
      setNotice(null);
      const r = await alertsApi.testChannel(props.session.csrfToken, c.id);
      setNotice(`Test sent to ${c.name}: ${r.detail}`);
    });
  const remove = (c: Channel) =>
    list.run(async () => {
      await alertsApi.removeChannel(props.session.csrfToken, c.id);
      setNotice(`Channel ${c.name} removed.`);
      await reload();
    });

  return (
    <div className="channels" data-testid="channels">
      {data?.channels.length === 0 && (
        <p className="muted small">No channels yet: alerts are only on this page.</p>
      )}
      {data && data.channels.length > 0 && (
        <div className="table-scroll">
          <table data-testid="channel-list">
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>Target</th>
                <th>Least severity</th>
                <th>Sites</th>
                <th>Added</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.channels.map((c) => (
                <tr key={c.id}>
                  <td>{c.name}</td>
                  <td>{TYPE_LABEL[c.type] ?? c.type}</td>
                  <td className="detail mono">{c.target}</td>
                  <td>{c.minSeverity}</td>
                  <td>{c.sites.join(', ') || 'all'}</td>
                  <td>
                    {fmtWhen(c.createdAt, 'day')} by {c.createdBy}
                  </td>
                  <td className="row-actions">
                    <button
                      type="button"
                      className="ghost small"
                      disabled={list.busy}
                      onClick={() => test(c)}
                    >
                      Test
                    </button>
                    <ConfirmButton
                      label="Remove"
                      confirmLabel="Yes, remove"
                      disabled={list.busy}
                      onConfirm={() => remove(c)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {notice && (
        <p className="notice small" role="status">
          {notice}
        </p>
      )}
      <InlineError error={list.error} testId="channels-error" />
      {secret && <SecretOnce secret={secret} onDone={() => setSecret(null)} />}
      <ChannelForm
        site={props.site}
        session={props.session}
        onUnauthorized={props.onUnauthorized}
        onCreated={(c, s) => {
          setNotice(`Channel ${c.name} added.`);
          setSecret(s ?? null);
          void reload();
        }}
      />
      <h3>Failed deliveries</h3>
      {data?.failures.length === 0 && <p className="muted small">None: every notification was delivered.</p>}
      {data && data.failures.length > 0 && (
        <div className="table-scroll">
          <table data-testid="failure-list">
            <thead>
              <tr>
                <th>Queued</th>
                <th>Alert</th>
                <th>Kind</th>
                <th>Attempts</th>
                <th>Delivered</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {data.failures.map((f) => (
                <tr key={f.id}>
                  <td>{fmtWhen(f.at)}</td>
                  <td className="mono">{f.fingerprint}</td>
                  <td>{f.state}</td>
                  <td>{f.attempts}</td>
                  <td>{f.delivered_at ? fmtWhen(f.delivered_at) : 'no'}</td>
                  <td className="detail error">{f.error}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function ChannelForm(props: {
  site: string;
  session: Session;
  onUnauthorized: () => void;
  onCreated: (c: Channel, secret?: string) => void;
}) {
  const { error, busy, run } = useApiAction(props.onUnauthorized);
  const [name, setName] = useState('');
  const [type, setType] = useState<ChannelType>('webhook');
  const [target, setTarget] = useState('');
  const [minSeverity, setMinSeverity] = useState<Severity>('warning');
  const [onlySite, setOnlySite] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const r = await alertsApi.addChannel(props.session.csrfToken, {
        name: name.trim(),
        type,
        target: target.trim(),
        minSeverity,
        sites: onlySite ? [props.site] : [],
      });
      setName('');
      setTarget('');
      props.onCreated(r.channel, r.secret);
    });
  };
  return (
    <form className="form-row add-form" onSubmit={submit} data-testid="channel-form">
      <h3>Add a channel</h3>
      <label>
        Name
        <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Type
        <select value={type} onChange={(e) => setType(e.target.value as ChannelType)}>
          {CHANNEL_TYPES.map((t) => (
            <option key={t} value={t}>
              {TYPE_LABEL[t]}
            </option>
          ))}
        </select>
      </label>
      <label className="grow">
        {type === 'email' ? 'Addresses' : 'URL'}
        <input
          required
          maxLength={2000}
          placeholder={PLACEHOLDER[type]}
          value={target}
          onChange={(e) => setTarget(e.target.value)}
        />
      </label>
      <label>
        Least severity
        <select value={minSeverity} onChange={(e) => setMinSeverity(e.target.value as Severity)}>
          <option value="info">info</option>
          <option value="warning">warning</option>
          <option value="critical">critical</option>
        </select>
      </label>
      <label className="check">
        <input type="checkbox" checked={onlySite} onChange={(e) => setOnlySite(e.target.checked)} /> only{' '}
        {props.site}
      </label>
      <button type="submit" disabled={busy}>
        Add channel
      </button>
      <InlineError error={error} testId="channel-error" />
    </form>
  );
}

/** The webhook's signing secret, on screen this once: the server does not show it again. */
function SecretOnce(props: { secret: string; onDone: () => void }) {
  const code = useRef<HTMLElement>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.secret);
      setCopied('Copied.');
    } catch {
      // The clipboard API needs HTTPS or localhost: select the text so Ctrl+C copies it.
      const range = document.createRange();
      if (code.current) range.selectNodeContents(code.current);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      setCopied('Selected: press Ctrl+C (⌘C) to copy.');
    }
  };
  return (
    <div className="secret" data-testid="channel-secret">
      <p>
        <strong>Webhook signing secret.</strong> Copy it now: it will not be shown again. Each POST carries{' '}
        <code>x-storepulse-signature: t=&lt;unix s&gt;,v1=&lt;hex HMAC-SHA256 of "t.body"&gt;</code>.
      </p>
      <div className="secret-value">
        <code ref={code}>{props.secret}</code>
        <button type="button" className="small" onClick={copy}>
          Copy
        </button>
        <button type="button" className="ghost small" onClick={props.onDone}>
          Done
        </button>
      </div>
      {copied && (
        <p className="muted small" role="status">
          {copied}
        </p>
      )}
    </div>
  );
}
