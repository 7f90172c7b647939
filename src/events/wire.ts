import { type Static, Type as T } from '@sinclair/typebox';

/**
 * storepulse's own JSON event, as POSTed to /api/v1/events (one object, an array, or
 * `{ "events": [...] }`) and as sent by sp.js. Unknown top-level fields are refused with a
 * reason; free-form data belongs in `props`.
 */
const Id = T.Union([T.String({ minLength: 1, maxLength: 256 }), T.Integer()]);

export const WireEventSchema = T.Object(
  {
    event_id: T.Optional(T.String({ minLength: 1, maxLength: 128 })),
    type: T.String({
      minLength: 1,
      maxLength: 128,
      description: 'view, cart, purchase, page_view, … or a custom name',
    }),
    time: T.Optional(T.Union([T.String({ maxLength: 64 }), T.Number()])),
    user_id: T.Optional(T.Union([Id, T.Null()])),
    session_id: T.Optional(T.Union([T.String({ maxLength: 256 }), T.Null()])),
    visitor_id: T.Optional(T.Union([T.String({ maxLength: 256 }), T.Null()])),
    product_id: T.Optional(T.Union([Id, T.Null()])),
    category_id: T.Optional(T.Union([Id, T.Null()])),
    category_code: T.Optional(T.Union([T.String({ maxLength: 256 }), T.Null()])),
    brand: T.Optional(T.Union([T.String({ maxLength: 256 }), T.Null()])),
    price: T.Optional(T.Union([T.Number({ minimum: 0 }), T.Null()])),
    quantity: T.Optional(T.Union([T.Integer({ minimum: 0 }), T.Null()])),
    currency: T.Optional(T.Union([T.String({ pattern: '^[A-Za-z]{3}$' }), T.Null()])),
    order_id: T.Optional(T.Union([Id, T.Null()])),
    revenue: T.Optional(T.Union([T.Number(), T.Null()])),
    url: T.Optional(T.Union([T.String({ maxLength: 4096 }), T.Null()])),
    referrer: T.Optional(T.Union([T.String({ maxLength: 4096 }), T.Null()])),
    ip: T.Optional(
      T.String({ maxLength: 64, description: "the visitor's IP, when a server sends on a visitor's behalf" }),
    ),
    user_agent: T.Optional(T.String({ maxLength: 1024, description: "the visitor's user agent, likewise" })),
    props: T.Optional(T.Record(T.String(), T.Unknown())),
  },
  { additionalProperties: false },
);

export type WireEvent = Static<typeof WireEventSchema>;
