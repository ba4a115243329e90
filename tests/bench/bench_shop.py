"""The benchmark's shop: its orders, its SQLite database, the simulator's view of the same
orders, and the daemon's configuration.

The mix of the issue: 70 % NOTPAY (WeChat Pay: query, close, re-query -> cancelled),
20 % SUCCESS whose callback was lost (one query -> paid), 10 % already paid in the database
(no call -> nothing to do). Kinds are interleaved so the queue sees the mix throughout.

The orders table has a benchmark-only column `committed_ms`, written by a trigger when the
daemon changes `status`: the wall clock (ms since the epoch) inside the daemon's transaction,
the same clock bench_publish stamps publishes with. The daemon does not know the column.
"""

import json
import os
import sqlite3
import time

NOTPAY, SUCCESS, ALREADY_PAID = "notpay", "success", "already_paid"
# Signed WeChat Pay requests per order of each kind (SPEC §3): 2.3 on average for the mix.
REQUESTS_PER_KIND = {NOTPAY: 3, SUCCESS: 1, ALREADY_PAID: 0}
UNPAID, PAID, CANCELLED = 1, 2, 5
DIRECT_MCHID = "1900000001"
APPID = "wxd678efh567hg6787"
SHANGHAI_OFFSET_S = 8 * 3600


def kind_of(index):
    slot = index % 10
    return NOTPAY if slot < 7 else SUCCESS if slot < 9 else ALREADY_PAID


def make_orders(prefix, count):
    """[(order_no, kind, amount_fen)], e.g. prefix "BD" -> BD00000000, BD00000001, ..."""
    return [("%s%08d" % (prefix, i), kind_of(i), 100 + (i * 37) % 99900) for i in range(count)]


def mix_requests_per_order(orders):
    return sum(REQUESTS_PER_KIND[k] for _, k, _ in orders) / max(1, len(orders))


def shanghai_datetime(epoch_s):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(epoch_s) + SHANGHAI_OFFSET_S))


SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE orders (
  order_no VARCHAR(32) NOT NULL PRIMARY KEY,
  status INTEGER NOT NULL,
  amount BIGINT NOT NULL,
  created_at DATETIME NOT NULL,
  paid_at DATETIME,
  updated_at DATETIME,
  version INTEGER NOT NULL DEFAULT 0,
  committed_ms INTEGER
);
CREATE TABLE payments (
  order_no VARCHAR(32) NOT NULL,
  transaction_id VARCHAR(64) NOT NULL,
  trade_state VARCHAR(32) NOT NULL,
  amount BIGINT,
  success_time DATETIME,
  content TEXT
);
CREATE TRIGGER bench_commit_time AFTER UPDATE OF status ON orders
BEGIN
  UPDATE orders SET committed_ms = CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)
   WHERE order_no = NEW.order_no;
END;
"""


def create_shop_db(path, orders, created_at_epoch):
    """The shop's database: every order unpaid except the already-paid tenth."""
    db = sqlite3.connect(path)
    try:
        db.executescript(SCHEMA)
        created = shanghai_datetime(created_at_epoch)
        db.executemany(
            "INSERT INTO orders (order_no, status, amount, created_at) VALUES (?, ?, ?, ?)",
            [(no, PAID if kind == ALREADY_PAID else UNPAID, amount, created) for no, kind, amount in orders])
        db.commit()
    finally:
        db.close()


def transaction_id(order_no):
    return "4200" + "".join(c for c in order_no if c.isdigit()).rjust(28, "0")


def write_sim_state(path, orders, paid_epoch):
    """WeChat Pay's view: NOTPAY and SUCCESS orders. The already-paid orders are left out: the
    daemon must not ask about them (any request for them still shows in the stats by_order)."""
    success_time = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(int(paid_epoch) + SHANGHAI_OFFSET_S))
    state = {}
    for no, kind, amount in orders:
        if kind == NOTPAY:
            state[no] = {"trade_state": "NOTPAY", "amount": amount}
        elif kind == SUCCESS:
            # Given here: the simulator would otherwise generate them (slowly, for many orders).
            state[no] = {"trade_state": "SUCCESS", "amount": amount, "transaction_id": transaction_id(no),
                         "success_time": success_time}
    with open(path, "w") as f:
        json.dump({"orders": state}, f, separators=(",", ":"))


def write_order_list(path, orders):
    with open(path, "w") as f:
        for no, _, _ in orders:
            f.write(no + "\n")


def shop_summary(path, orders):
    """What the daemon did to the shop, and every order in a state its kind forbids (a NOTPAY order
    paid, a SUCCESS order cancelled, an already-paid order changed). Orders not reached yet are
    still unpaid, which is allowed: a drain may stop early."""
    allowed = {NOTPAY: (UNPAID, CANCELLED), SUCCESS: (UNPAID, PAID), ALREADY_PAID: (PAID,)}
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        rows = dict(((no, (status, committed)) for no, status, committed in
                     db.execute("SELECT order_no, status, committed_ms FROM orders")))
        payments = db.execute("SELECT COUNT(*) FROM payments").fetchone()[0]
    finally:
        db.close()
    wrong, status_counts, committed_ms = [], {}, {}
    for no, kind, _ in orders:
        status, committed = rows.get(no, (None, None))
        status_counts[status] = status_counts.get(status, 0) + 1
        if status not in allowed[kind]:
            wrong.append((no, kind, status))
        if committed is not None:
            committed_ms[no] = committed
    return {"status": status_counts, "wrong": wrong, "committed_ms": committed_ms, "payments": payments}


def pki_line(pki, name):
    with open(os.path.join(pki, name)) as f:
        return f.read().strip()


def daemon_config(path, *, amqp_url, queue, db_path, sim_port, pki, state_dir, metrics_file, concurrency=None,
                  max_requests_per_second=100000, timeout=None):
    """The daemon's YAML: a typical shop (DATETIME in Asia/Shanghai, paid_at, updated_at, version,
    a payments table), WeChat Pay public-key mode against the simulator, the sweeper off (a
    sweep pass would query the same orders: not part of these figures). policy.concurrency is
    left at its default unless `concurrency` is given. wechatpay.max_requests_per_second (default
    100) is raised: the default would cap the drain at ~43 orders/s. `timeout` (e.g. "60s")
    replaces database.timeout and wechatpay.timeout, for runs under valgrind."""
    lines = [
        "# wxpay-reconciler benchmark configuration (generated by tests/bench/bench_shop.py)",
        "rabbitmq:",
        "  url: %s" % amqp_url,
        "  queue: %s" % queue,
        "  dead_letter_queue: %s.dead" % queue,
        "  retry_exchange: %s.retry" % queue,
        "database:",
        "  driver: sqlite",
        "  path: %s" % db_path,
    ] + (["  timeout: %s" % timeout] if timeout else []) + [
        "  orders:",
        "    table: orders",
        "    order_no: order_no",
        "    status: status",
        "    amount: amount",
        "    created_at: created_at",
        "    created_at_format: datetime",
        "    timezone: Asia/Shanghai",
        "    status_values: {unpaid: \"%d\", paid: \"%d\", cancelled: \"%d\"}" % (UNPAID, PAID, CANCELLED),
        "    paid_at: paid_at",
        "    updated_at: updated_at",
        "    version: version",
        "  payments:",
        "    table: payments",
        "wechatpay:",
        "  base_url: https://127.0.0.1:%d" % sim_port,
        "  ca_file: %s" % os.path.join(pki, "ca.pem"),
        "  mchid: \"%s\"" % DIRECT_MCHID,
        "  appid: [%s]" % APPID,
        "  merchant_serial_no: %s" % pki_line(pki, "merchant_serial"),
        "  private_key_file: %s" % os.path.join(pki, "merchant_key.pem"),
        "  public_key_file: %s" % os.path.join(pki, "pub_key.pem"),
        "  public_key_id: %s" % pki_line(pki, "pub_key_id"),
        "  max_requests_per_second: %d" % max_requests_per_second,
    ] + (["  timeout: %s" % timeout] if timeout else []) + [
        "policy:",
        "  order_ttl: 15m",
    ]
    if concurrency:
        lines.append("  concurrency: %d" % concurrency)
    lines += [
        "sweeper:",
        "  enabled: false",
        "state_dir: %s" % state_dir,
        "metrics:",
        "  textfile: %s" % metrics_file,
        "log:",
        "  level: info",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
