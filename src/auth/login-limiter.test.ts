import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoginLimiter } from './login-limiter.js';

const MIN = 60_000;
const policy = { maxFailures: 5, windowMs: 15 * MIN, lockoutMs: 15 * MIN, ipBurst: 20, ipPerMinute: 10 };

describe('login limiter', () => {
  it('locks an account for 15 min after 5 failures within 15 min, whichever IPs they come from', () => {
    const l = new LoginLimiter(policy);
    const t = 1_000_000;
    for (let i = 0; i < 4; i++) {
      assert.equal(l.admit(`10.0.0.${i}`, 'ann@x.io', t + i).ok, true);
      assert.equal(l.fail('ann@x.io', t + i).locked, false);
    }
    assert.equal(l.admit('10.0.0.9', 'ann@x.io', t + 5).ok, true);
    assert.deepEqual(l.fail('ann@x.io', t + 5), { locked: true, retryAfterMs: 15 * MIN });

    const refused = l.admit('10.0.0.10', 'ann@x.io', t + MIN);
    assert.deepEqual(refused, { ok: false, reason: 'locked', retryAfterMs: 14 * MIN + 5 });
    assert.equal(l.admit('10.0.0.10', 'bob@x.io', t + MIN).ok, true, 'other accounts are not affected');
    assert.equal(l.admit('10.0.0.10', 'ann@x.io', t + 15 * MIN + 5).ok, true, 'the lock ends');
  });

  it('forgets failures older than the window and after a success', () => {
    const l = new LoginLimiter(policy);
    for (let i = 0; i < 4; i++) l.fail('ann@x.io', i * MIN);
    assert.equal(l.fail('ann@x.io', 16 * MIN).locked, false, 'the first failures left the window');
    l.succeed('ann@x.io');
    for (let i = 0; i < 4; i++) assert.equal(l.fail('ann@x.io', 17 * MIN + i).locked, false);
  });

  it('locks unknown emails the same way, so a lockout does not reveal who has an account', () => {
    const l = new LoginLimiter(policy);
    for (let i = 0; i < 5; i++) l.fail('nobody@x.io', i);
    assert.equal(l.admit('10.0.0.1', 'nobody@x.io', 10).ok, false);
  });

  it('gives each IP a bucket of attempts that refills over time', () => {
    const l = new LoginLimiter({ ...policy, ipBurst: 3, ipPerMinute: 6 });
    for (let i = 0; i < 3; i++) assert.equal(l.admit('10.0.0.1', `u${i}@x.io`, 0).ok, true);
    const refused = l.admit('10.0.0.1', 'u9@x.io', 0);
    assert.deepEqual(refused, { ok: false, reason: 'ip', retryAfterMs: 10_000 });
    assert.equal(l.admit('10.0.0.2', 'u9@x.io', 0).ok, true, 'another IP has its own bucket');
    assert.equal(l.admit('10.0.0.1', 'u9@x.io', 10_000).ok, true, 'one attempt back after 10 s');
    assert.equal(l.admit('10.0.0.1', 'u9@x.io', 10_000).ok, false);
  });
});
