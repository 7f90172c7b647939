#!/usr/bin/env bash
# Send a small funnel to a running storepulse. Usage: WRITE_KEY=sp_wk_… ./examples/send-events.sh [http://localhost:8080]
set -euo pipefail
URL=${1:-http://localhost:8080}
curl -sS -X POST "$URL/api/v1/events" -H "Authorization: Bearer $WRITE_KEY" -H 'content-type: application/json' -d '{
  "events": [
    {"type": "page_view", "url": "https://shop.example/?utm_source=newsletter", "user_id": "u1"},
    {"type": "view", "product_id": "p1", "price": 19.99, "brand": "acme", "category_code": "electronics.audio", "user_id": "u1"},
    {"type": "cart", "product_id": "p1", "price": 19.99, "user_id": "u1"},
    {"type": "purchase", "event_id": "order-1-p1", "order_id": "order-1", "product_id": "p1", "price": 19.99, "user_id": "u1"}
  ]}'
echo
