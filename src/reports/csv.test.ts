import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportCsv, reportFilename } from './csv.js';
import type { ReportColumn } from './types.js';

const columns: ReportColumn[] = [
  { name: 'brand', label: 'Brand', type: 'string' },
  { name: 'views', label: 'Views', type: 'integer' },
  { name: 'views_change', label: 'Change', type: 'ratio' },
];

describe('report CSV export', () => {
  it('quotes commas, quotes and newlines, and defuses spreadsheet formulas', () => {
    const csv = reportCsv({
      columns,
      rows: [
        { brand: 'acme, "best"\nsince 1900', views: 3, views_change: -0.5 },
        { brand: '=HYPERLINK("http://evil.example","x")', views: 1, views_change: null },
        { brand: '+1', views: 0, views_change: 0 },
        { brand: '-2+3', views: 0, views_change: 0 },
        { brand: '@SUM(A1)', views: 0, views_change: 0 },
        { brand: '\t=cmd', views: 0, views_change: 0 },
        { brand: 'plain', views: 12, views_change: 1.25 },
        { brand: null, views: 0, views_change: null },
      ],
    });
    assert.equal(
      csv,
      [
        'brand,views,views_change',
        '"acme, ""best""\nsince 1900",3,-0.5',
        `"'=HYPERLINK(""http://evil.example"",""x"")",1,`,
        "'+1,0,0",
        "'-2+3,0,0",
        "'@SUM(A1),0,0",
        "'\t=cmd,0,0",
        'plain,12,1.25',
        ',0,',
        '',
      ].join('\r\n'),
    );
  });

  it('names the download after site, report, view and range, with nothing unsafe from the site id', () => {
    const params = { from: '2026-11-01', to: '2026-12-01', by: 'brand' };
    assert.equal(
      reportFilename('shop', { report: 'cart-abandonment', params }),
      'storepulse-shop-cart-abandonment-brand-2026-11-01-2026-12-01.csv',
    );
    assert.equal(
      reportFilename('a"b/../c', { report: 'revenue', params: { from: '2026-11-01', to: '2026-12-01' } }),
      'storepulse-a_b_c-revenue-2026-11-01-2026-12-01.csv',
    );
  });
});
