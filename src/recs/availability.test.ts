import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openMetaDb } from '../meta/meta-db.js';
import { ProductAvailability } from './availability.js';

describe('product availability', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-avail-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps each site its own unavailable products, durably, and bumps the version on each change', () => {
    const db = openMetaDb(dir);
    const a = new ProductAvailability(db);
    assert.equal(a.version('shop'), 0);
    assert.equal(a.apply('shop', { unavailable: ['P1', 'P2', 'P1'] }), 2);
    assert.equal(a.apply('other', { unavailable: ['P9'] }), 1);
    assert.equal(a.version('shop'), 1);
    assert.deepEqual([...a.unavailable('shop')].sort(), ['P1', 'P2']);
    // Marked both ways in one change: it ends available.
    assert.equal(a.apply('shop', { unavailable: ['P3'], available: ['P2', 'P3'] }), 1);
    assert.equal(a.version('shop'), 2);
    db.close();

    const again = new ProductAvailability(openMetaDb(dir));
    assert.deepEqual([...again.unavailable('shop')], ['P1'], 'read back after a reopen');
    assert.deepEqual([...again.unavailable('other')], ['P9']);
  });
});
