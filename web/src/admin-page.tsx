import { useCallback, useState } from 'react';
import { AuditSection } from './admin-audit';
import { ApiKeysSection } from './admin-keys';
import { UsersSection } from './admin-users';
import type { ApiKeyInfo, Session } from './api-types';

/** Users, API keys and the audit log, for admins (the server checks the role on every call). */
export function AdminPage(props: { session: Session; onUnauthorized: () => void }) {
  // Bumped by every change made here, so the audit log reloads and shows it.
  const [auditVersion, setAuditVersion] = useState(0);
  const changed = useCallback(() => setAuditVersion((v) => v + 1), []);
  const [keys, setKeys] = useState<ApiKeyInfo[]>([]);
  return (
    <main className="page admin" data-testid="admin-page">
      <div className="admin-top">
        <UsersSection session={props.session} onUnauthorized={props.onUnauthorized} onChanged={changed} />
        <ApiKeysSection
          session={props.session}
          onUnauthorized={props.onUnauthorized}
          onChanged={changed}
          onKeys={setKeys}
        />
      </div>
      <AuditSection version={auditVersion} keys={keys} onUnauthorized={props.onUnauthorized} />
    </main>
  );
}
