import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findReport, paramsOf } from './catalogue.js';
import { parseParams } from './params.js';
import { ReportError } from './report-error.js';

const TODAY = Date.parse('2026-11-23T15:30:00Z');
const parse = (id: string, raw: Record<string, unknown>) => {
  const def = findReport(id);
  assert.ok(def, id);
  return parseParams(paramsOf(def), raw, TODAY);
};

/** Asserts a 400-kind refusal that names `parameter` and says `says`. */
function refused(id: string, raw: Record<string, unknown>, parameter: string, says: RegExp) {
  assert.throws(
    () => parse(id, raw),
    (err: unknown) =>
      err instanceof ReportError &&
      err.code === 'bad_parameter' &&
      err.parameter === parameter &&
      says.test(err.message),
  );
}

describe('report parameters', () => {
  it('default to the last 28 days up to today, bots excluded, and echo every value', () => {
    const p = parse('visitors', {});
    assert.deepEqual(p.range, { from: '2026-10-27', to: '2026-11-24', days: 28, includeBots: false });
    assert.deepEqual(p.echo, { from: '2026-10-27', to: '2026-11-24', bots: 'exclude', grain: 'day' });
  });

  it('take a valid range, bots=include and report options typed', () => {
    const p = parse('brand-marketing', {
      from: '2026-10-01',
      to: '2026-11-01',
      bots: 'include',
      min_views: '50',
      conversion_factor: '0.25',
    });
    assert.equal(p.range.days, 31);
    assert.equal(p.range.includeBots, true);
    assert.equal(p.values.min_views, 50);
    assert.equal(p.values.conversion_factor, 0.25);
    assert.equal(p.values.falling_pct, 20);
  });

  it('refuse malformed and impossible dates, and ranges that are empty or too long', () => {
    refused('visitors', { from: '2026-13-01' }, 'from', /YYYY-MM-DD/);
    refused('visitors', { from: '2026-02-30' }, 'from', /YYYY-MM-DD/);
    refused('visitors', { to: '23/11/2026' }, 'to', /YYYY-MM-DD/);
    refused('visitors', { from: "2026-11-01' OR 1=1 --" }, 'from', /YYYY-MM-DD/);
    refused('visitors', { from: '2026-11-05', to: '2026-11-05' }, 'to', /before/);
    refused('visitors', { from: '2000-01-01', to: '2026-11-05' }, 'to', /at most/);
  });

  it('refuse values outside an enum or bounds, non-numbers, repeats and unknown names', () => {
    refused('visitors', { grain: 'year' }, 'grain', /day, week, month/);
    refused('visitors', { bots: 'maybe' }, 'bots', /exclude, include/);
    refused('category-heatmap', { top: '0' }, 'top', /from 1 to 100/);
    refused('category-heatmap', { top: '2.5' }, 'top', /whole number/);
    refused('brand-marketing', { conversion_factor: 'lots' }, 'conversion_factor', /number/);
    refused('brand-marketing', { conversion_factor: '1e3' }, 'conversion_factor', /number/);
    refused('funnel', { dimension: ['day', 'brand'] }, 'dimension', /once/);
    refused('funnel', { dimensoin: 'brand' }, 'dimensoin', /unknown parameter.*dimension/);
    refused('funnel', { grain: 'week' }, 'grain', /unknown parameter/);
  });
});
