import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openMetaDb } from '../meta/meta-db.js';
import { csrfTokenFor, csrfTokenMatches, type Session, Sessions, sessionState } from './sessions.js';

const MIN = 60_000;
const policy = { idleMs: 60 * MIN, maxMs: 12 * 60 * MIN };
const newSessions = () => new Sessions(openMetaDb(mkdtempSync(join(tmpdir(), 'sp-sessions-'))), policy);

describe('session expiry', () => {
  const s: Session = { idHash: 'h', userId: 'u', createdAt: 0, lastSeenAt: 0, expiresAt: 12 * 60 * MIN };

  it('ends a session after the idle timeout and after the absolute lifetime', () => {
    assert.equal(sessionState(s, 59 * MIN, policy), 'active');
    assert.equal(sessionState(s, 60 * MIN, policy), 'idle');
    assert.equal(sessionState({ ...s, lastSeenAt: 11.5 * 60 * MIN }, 11.9 * 60 * MIN, policy), 'active');
    assert.equal(sessionState({ ...s, lastSeenAt: 11.9 * 60 * MIN }, 12 * 60 * MIN, policy), 'expired');
  });

  it('keeps an active session alive by use, up to the absolute lifetime', () => {
    const sessions = newSessions();
    const { id, session } = sessions.create('user-1', { ip: '127.0.0.1', userAgent: 'test' }, 0);
    assert.equal(session.expiresAt, 12 * 60 * MIN);
    let now = 0;
    for (; now < 12 * 60 * MIN; now += 50 * MIN) {
      assert.ok(sessions.resume(id, now), `alive at ${now / MIN} min`);
    }
    assert.equal(sessions.resume(id, now), null, 'gone after 12 h');
  });

  it('forgets a session left idle, and one that was revoked', () => {
    const sessions = newSessions();
    const a = sessions.create('user-1', {}, 0);
    assert.equal(sessions.resume(a.id, 61 * MIN), null);
    assert.equal(sessions.resume(a.id, 1), null, 'an idle session does not come back');
    const b = sessions.create('user-1', {}, 0);
    assert.equal(sessions.revoke(b.id), true);
    assert.equal(sessions.resume(b.id, 1), null);
    assert.equal(sessions.resume('not-a-session', 1), null);
  });

  it('stores only a hash of the session id', () => {
    const sessions = newSessions();
    const { id, session } = sessions.create('user-1', {}, 0);
    assert.equal(id.length, 43, '256 bits, base64url');
    assert.notEqual(session.idHash, id);
    assert.match(session.idHash, /^[0-9a-f]{64}$/);
  });
});

describe('CSRF token', () => {
  it('is bound to the session and compared exactly', () => {
    const token = csrfTokenFor('session-a');
    assert.equal(csrfTokenMatches('session-a', token), true);
    assert.equal(csrfTokenMatches('session-b', token), false);
    assert.equal(csrfTokenMatches('session-a', undefined), false);
    assert.equal(csrfTokenMatches('session-a', ''), false);
    assert.equal(csrfTokenMatches('session-a', `${token}x`), false);
    assert.notEqual(token, 'session-a');
  });
});
