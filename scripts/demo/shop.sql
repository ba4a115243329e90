-- The demo shop's database: a typical Java shop (README "Configure"):
-- orders.number, status 1 unpaid / 2 paid / 5 cancelled, amount in fen,
-- order_time written in Beijing time, and a payments table the daemon fills
-- when it finds a payment whose callback was lost.
CREATE TABLE orders (
  number     VARCHAR(32) NOT NULL PRIMARY KEY,
  status     INTEGER     NOT NULL,
  amount     BIGINT      NOT NULL,
  order_time TEXT        NOT NULL,
  pay_time   TEXT
);
CREATE TABLE order_payments (
  order_no       VARCHAR(32) NOT NULL,
  transaction_id VARCHAR(64) NOT NULL,
  trade_state    VARCHAR(32) NOT NULL,
  amount         BIGINT,
  success_time   TEXT,
  content        TEXT
);
-- Every order is created "now" (Asia/Shanghai), so its payment window
-- (policy.order_ttl) ends while its message waits in the shop delay queue.
INSERT INTO orders (number, status, amount, order_time) VALUES
  ('100001', 1,  100, strftime('%Y-%m-%d %H:%M:%S', 'now', '+8 hours')),
  ('100002', 1,  250, strftime('%Y-%m-%d %H:%M:%S', 'now', '+8 hours')),
  ('100003', 1,  300, strftime('%Y-%m-%d %H:%M:%S', 'now', '+8 hours')),
  ('100004', 1,  400, strftime('%Y-%m-%d %H:%M:%S', 'now', '+8 hours')),
  ('100005', 2,  500, strftime('%Y-%m-%d %H:%M:%S', 'now', '+8 hours')),
  ('100006', 1,  600, strftime('%Y-%m-%d %H:%M:%S', 'now', '+8 hours')),
  ('100007', 1,  990, strftime('%Y-%m-%d %H:%M:%S', 'now', '+8 hours')),
  ('100008', 1,  800, strftime('%Y-%m-%d %H:%M:%S', 'now', '+8 hours'));
