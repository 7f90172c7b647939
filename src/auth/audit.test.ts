import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testAuthServices } from './test-services.js';

describe('audit log', () => {
  it('reads newest first, a page at a time', () => {
    const { audit } = testAuthServices();
    for (let i = 0; i < 5; i++) audit.record({ action: 'login', actor: `u${i}@x.io` }, 1000 + i);
    const page1 = audit.list({ limit: 2 });
    assert.deepEqual(
      page1.map((e) => e.actor),
      ['u4@x.io', 'u3@x.io'],
    );
    const page2 = audit.list({ limit: 2, before: page1[1].id });
    assert.deepEqual(
      page2.map((e) => [e.actor, e.at]),
      [
        ['u2@x.io', 1002],
        ['u1@x.io', 1001],
      ],
    );
    assert.equal(audit.list({ limit: 0 }).length, 1, 'at least one');
  });
});
