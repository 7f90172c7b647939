import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DemoIncident, type DemoItem, demoIncidents, generateDemo } from './generator.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2024, 9, 7);
const SEED = 42;
const EVENTS_PER_DAY = 400_000;

/** The traffic of an incident's window (with the same incident list, so minutes are as in a full run). */
function during(incident: DemoIncident, incidents: DemoIncident[], pad = 0): DemoItem[] {
  return [
    ...generateDemo({
      startMs: incident.startMs - pad,
      endMs: incident.endMs,
      seed: SEED,
      eventsPerDay: EVENTS_PER_DAY,
      incidents,
      timeFormat: 'ms',
    }),
  ];
}

const label = (i: DemoItem) => i.event.props?.demo_incident as string | undefined;

describe('demo incidents', () => {
  const incidents = demoIncidents(START, 28, SEED);

  it('schedules drops and surges of several sizes, floods, bot waves, error spikes and card testing, apart, in busy hours', () => {
    const kinds = (k: string) => incidents.filter((i) => i.kind === k);
    assert.equal(kinds('order_drop').length, 10); // one per started 3-day block
    assert.equal(kinds('request_flood').length, 10);
    assert.ok(kinds('order_change').length >= 27);
    assert.deepEqual(
      [...new Set(kinds('order_change').map((i) => i.magnitude))].sort((a, b) => a! - b!),
      [-0.9, -0.5, -0.3, 0.5, 1],
    );
    assert.ok(
      kinds('order_change').every((i) => i.endMs - i.startMs >= 10 * 60_000 && i.endMs - i.startMs <= HOUR),
    );
    assert.ok(
      kinds('bot_wave').some((i) => i.variant === 'cart_bots') &&
        kinds('bot_wave').some((i) => i.variant === 'scrapers'),
    );
    assert.ok(kinds('error_spike').length >= 9);
    assert.ok(kinds('card_testing').length >= 9);
    assert.ok(
      incidents.every(
        (i) => new Date(i.startMs).getUTCHours() >= 9 && new Date(i.startMs).getUTCHours() <= 21,
      ),
    );
    for (let k = 1; k < incidents.length; k++)
      assert.ok(
        incidents[k].startMs >= incidents[k - 1].endMs,
        `${incidents[k - 1].id} overlaps ${incidents[k].id}`,
      );
    assert.ok(incidents.every((i) => i.startMs >= START && i.endMs <= START + 28 * DAY));
  });

  it('an iOS checkout failure removes the iPhone and iPad orders, and nothing else', () => {
    const ios = incidents.find((i) => i.kind === 'order_change' && i.segment?.who === 'ios')!;
    const items = during(ios, incidents).filter(
      (i) => i.event.type === 'purchase' && (i.event.time as number) >= ios.startMs + 5 * 60_000,
    );
    const apple = items.filter((i) => /iPhone|iPad/.test(i.userAgent));
    assert.ok(items.length > 20, `${items.length} purchases`);
    assert.ok(apple.length <= 0.1 * items.length, `${apple.length} of ${items.length} from iOS`);
    assert.equal(ios.segment?.expect?.dimension, 'os');
  });

  it('a surge brings labelled campaign visitors who buy', () => {
    const surge = incidents.find((i) => i.kind === 'order_change' && (i.magnitude ?? 0) >= 1)!;
    const items = during(surge, incidents);
    const campaign = items.filter((i) => label(i) === surge.id);
    assert.ok(campaign.some((i) => i.event.type === 'purchase'));
    assert.ok(campaign.every((i) => i.ip && !/bot/i.test(i.userAgent)));
    const landing = campaign.find((i) => i.event.url?.includes('utm_source='))!;
    assert.match(landing.event.url!, new RegExp(`utm_source=${surge.segment!.source}`));
  });

  it('error spikes, card testing and cart bots leave the traces their detectors look for', () => {
    const spike = incidents.find((i) => i.kind === 'error_spike')!;
    const errors = during(spike, incidents).filter((i) => i.event.type === 'checkout_error');
    assert.ok(errors.length > 5 && errors.filter((i) => label(i) === spike.id).length >= 0.8 * errors.length);

    const cards = incidents.find((i) => i.kind === 'card_testing')!;
    const attempts = during(cards, incidents).filter((i) => label(i) === cards.id);
    assert.ok(attempts.every((i) => cards.ips!.includes(i.ip)));
    const declined = attempts.filter((i) => i.event.type === 'checkout_error').length;
    assert.ok(declined >= 5 * ((cards.endMs - cards.startMs) / 60_000), `${declined} declined`);

    const wave = incidents.find((i) => i.kind === 'bot_wave' && i.variant === 'cart_bots')!;
    const bots = during(wave, incidents).filter((i) => label(i) === wave.id);
    assert.ok(bots.length > 20 && bots.every((i) => i.event.type === 'cart'));
  });
});
