"""Tests for tests/sim/sim_bench.py, the simulator's benchmark mode (pre-signed answers).

Run from the repository root:
  /usr/bin/python3 -m unittest discover -s tests/sim -p 'test_*.py'
Uses the PKI in $WXPAY_TEST_PKI when scripts/run-tests.sh provides one, else makes its own.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import sim_client  # noqa: E402
import sim_keys  # noqa: E402

PYTHON = "/usr/bin/python3"
SIM_BENCH = os.path.join(HERE, "sim_bench.py")
GEN_PKI = os.path.join(REPO, "scripts", "gen-test-pki.sh")
PUBKEY_ID_HEADER = "PUB_KEY_ID_0114232134912410000000000000000001"

ORDERS = {
    "BENCHT000001": {"trade_state": "NOTPAY", "amount": 100},
    "BENCHT000002": {"trade_state": "SUCCESS", "amount": 250, "transaction_id": "4200000000000000000000000000002",
                     "success_time": "2026-01-01T10:00:00+08:00"},
    "BENCHT000003": {"trade_state": "NOTPAY", "amount": 300},
}


class SimBenchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wxpay-sim-bench-test.")
        cls.pki_dir = os.environ.get("WXPAY_TEST_PKI") or os.path.join(cls.tmp, "pki")
        if not os.path.exists(os.path.join(cls.pki_dir, ".complete")):
            subprocess.run([GEN_PKI, cls.pki_dir], check=True, stdout=subprocess.DEVNULL)
        cls.pki = sim_keys.Pki(cls.pki_dir)
        state = os.path.join(cls.tmp, "state.json")
        with open(state, "w") as f:
            json.dump({"orders": ORDERS}, f)
        port_file = os.path.join(cls.tmp, "port")
        cls.log_path = os.path.join(cls.tmp, "sim.log")
        cls.log = open(cls.log_path, "wb")
        cls.proc = subprocess.Popen([PYTHON, SIM_BENCH, "--pki", cls.pki_dir, "--state", state, "--port-file",
                                     port_file, "--presign", "--presign-workers", "2", "--quiet"],
                                    stdout=subprocess.DEVNULL, stderr=cls.log)
        deadline = time.monotonic() + 60
        while not (os.path.exists(port_file) and os.path.getsize(port_file) > 0):
            if cls.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("sim_bench.py did not start: %s" % cls.stderr())
            time.sleep(0.02)
        with open(port_file) as f:
            cls.client = sim_client.SimClient(cls.pki_dir, int(f.read()))

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGTERM)
        try:
            cls.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            cls.proc.kill()
            cls.proc.wait()
        cls.log.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def stderr(cls):
        with open(cls.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def report(self):
        status, doc = self.client.control("GET", "/_sim/bench")
        self.assertEqual(status, 200)
        return doc

    def assert_verified(self, resp):
        self.assertEqual(resp.headers.get("wechatpay-serial"), self.pki.response_keys["pubkey"].serial)
        self.assertTrue(sim_client.verify_response(resp, self.pki.response_keys["pubkey"].public_key),
                        "answer signature does not verify: %s" % resp.headers)

    def test_notpay_query_close_requery_are_served_from_the_cache(self):
        before = self.report()
        self.assertEqual(before["presigned"], 1 + 2 + 1 + 2)  # 204, NOTPAY+CLOSED twice, SUCCESS
        first = self.client.query("BENCHT000001", wechatpay_serial=PUBKEY_ID_HEADER)
        self.assertEqual(first.status, 200)
        self.assertEqual(first.json()["trade_state"], "NOTPAY")
        self.assert_verified(first)
        closed = self.client.close("BENCHT000001", wechatpay_serial=PUBKEY_ID_HEADER)
        self.assertEqual(closed.status, 204)
        self.assert_verified(closed)
        again = self.client.query("BENCHT000001", wechatpay_serial=PUBKEY_ID_HEADER)
        self.assertEqual(again.json()["trade_state"], "CLOSED")
        self.assert_verified(again)
        after = self.report()
        self.assertEqual(after["presigned_hits"] - before["presigned_hits"], 3)
        self.assertEqual(after["live_signed"], before["live_signed"])
        self.assertGreater(after["cpu_s"], 0)

    def test_an_answer_not_in_the_cache_is_signed_live(self):
        before = self.report()
        missing = self.client.query("BENCHT999999", wechatpay_serial=PUBKEY_ID_HEADER)
        self.assertEqual(missing.status, 404)
        self.assert_verified(missing)
        self.assertEqual(self.report()["live_signed"], before["live_signed"] + 1)

    def test_a_cached_answer_too_far_from_the_clock_is_signed_live(self):
        self.assertEqual(self.client.control("POST", "/_sim/config", {"clock_offset_s": 600})[0], 200)
        try:
            before = self.report()
            # The request is signed at the simulator's shifted clock, as WeChat Pay would expect.
            resp = self.client.query("BENCHT000002", wechatpay_serial=PUBKEY_ID_HEADER,
                                     timestamp=int(time.time()) + 600)
            self.assertEqual(resp.status, 200)
            self.assert_verified(resp)
            self.assertGreaterEqual(int(resp.headers["wechatpay-timestamp"]), int(time.time()) + 500)
            after = self.report()
            self.assertEqual(after["live_signed"], before["live_signed"] + 1)
            self.assertEqual(after["presigned_hits"], before["presigned_hits"])
        finally:
            self.client.control("POST", "/_sim/config", {"clock_offset_s": 0})


if __name__ == "__main__":
    unittest.main()
