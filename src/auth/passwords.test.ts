import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPasswordPolicy, hashPassword, verifyAgainstDummy, verifyPassword } from './passwords.js';

describe('password hashing', () => {
  it('stores argon2id hashes with a fresh salt and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    assert.match(a, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.notEqual(a, b, 'salted');
    assert.equal(await verifyPassword(a, 'correct horse battery staple'), true);
    assert.equal(await verifyPassword(a, 'correct horse battery stapler'), false);
    assert.equal(await verifyPassword('not a hash', 'whatever'), false);
  });

  it('spends a real verification on unknown users and answers false', async () => {
    const t0 = performance.now();
    assert.equal(await verifyAgainstDummy('correct horse battery staple'), false);
    assert.ok(performance.now() - t0 > 5, 'argon2 work was done');
  });
});

describe('password policy', () => {
  const refused = (password: string, email = 'ann@shop.example') => {
    const r = checkPasswordPolicy(password, email);
    return r.ok ? null : r.reason;
  };

  it('accepts a long uncommon password', () => {
    assert.equal(refused('plum tractor quietly 42'), null);
    assert.equal(refused('Zq7#mT2!vR9@'), null);
  });

  it('refuses short passwords and says how long they must be', () => {
    assert.match(refused('Tr0ub4dor&3') ?? '', /at least 12 characters \(it has 11\)/);
  });

  it('refuses common passwords, also padded or repeated to reach 12 characters', () => {
    for (const p of [
      'password1234',
      'Password2024!',
      'qwertyqwerty',
      '123456789012',
      'iloveyou!!!!',
      'abcabcabcabc',
    ]) {
      assert.match(refused(p) ?? '', /too common/, p);
    }
  });

  it('refuses one repeated character and passwords made of the email', () => {
    assert.match(refused('aaaaaaaaaaaaaaa') ?? '', /repeated/);
    assert.match(refused('annabel.lee@x.io', 'annabel.lee@x.io') ?? '', /email/);
    assert.match(refused('annabel.lee-2024', 'annabel.lee@x.io') ?? '', /email/);
  });
});
