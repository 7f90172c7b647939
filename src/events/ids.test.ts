import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuidv7 } from './ids.js';

describe('uuidv7', () => {
  it('is a valid version-7 UUID that sorts by time and does not repeat', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => uuidv7(1_795_430_000_000 + i));
    for (const id of ids.slice(0, 50))
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual([...ids].sort(), ids, 'later ids sort after earlier ones');
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(uuidv7(0).slice(0, 13), '00000000-0000');
    assert.equal(
      Number.parseInt(uuidv7(1_795_430_000_000).replace(/-/g, '').slice(0, 12), 16),
      1_795_430_000_000,
    );
  });
});
