"""Simulator state: orders, merchant registry, faults, statistics and runtime settings.

One lock guards everything; callers use `with state.lock:` for compound steps.
The state file format is the one in the team brief ("Simulator contract"), plus the
optional top-level keys documented in tests/sim/README.md ("options", "merchants").
"""

import copy
import json
import os
import re
import threading
import time

import sim_keys

KNOWN_STATES = ("SUCCESS", "REFUND", "NOTPAY", "CLOSED", "REVOKED", "USERPAYING", "PAYERROR", "ACCEPT")
PAID_STATES = ("SUCCESS", "REFUND")

TRADE_STATE_DESC = {
    "SUCCESS": "支付成功",
    "REFUND": "转入退款",
    "NOTPAY": "订单未支付",
    "CLOSED": "订单已关闭",
    "REVOKED": "已撤销（付款码支付）",
    "USERPAYING": "用户支付中（付款码支付）",
    "PAYERROR": "支付失败（付款码支付）",
    "ACCEPT": "已接收，等待扣款",
}

DEFAULT_APPID = "wxd678efh567hg6787"

_STRING_FIELDS = ("trade_state", "mchid", "appid", "sub_mchid", "sp_mchid", "sp_appid", "sub_appid",
                  "transaction_id", "success_time", "trade_state_desc", "trade_type", "bank_type",
                  "attach", "openid", "currency", "out_trade_no")
_INT_FIELDS = ("amount", "payer_total")
_CLOSE_IF_CLOSED = ("204", "ORDER_CLOSED")
_CLOSE_UNKNOWN = ("204", "ORDER_NOT_EXIST")

ORDER_NO_RE = re.compile(r"^[0-9A-Za-z_\-|*]{6,32}$")
TRANSACTION_ID_RE = re.compile(r"^[0-9A-Za-z]{1,32}$")
MCHID_RE = re.compile(r"^[0-9]{1,32}$")


class StateError(ValueError):
    """Invalid state file content or control-API input; the message says what to fix."""


def beijing_time(epoch: float) -> str:
    t = time.gmtime(int(epoch) + 8 * 3600)
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", t)


def normalize_order(out_trade_no: str, raw) -> dict:
    """Validates one order object and fills defaults. Raises StateError."""
    where = "order %r" % out_trade_no
    if not isinstance(raw, dict):
        raise StateError("%s: must be a JSON object" % where)
    allowed = set(_STRING_FIELDS) | set(_INT_FIELDS) | {"close_if_closed"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise StateError("%s: unknown field(s) %s; allowed: %s" % (where, ", ".join(unknown), ", ".join(sorted(allowed))))
    order = {}
    for key in _STRING_FIELDS:
        if key in raw and raw[key] is not None:
            if not isinstance(raw[key], str):
                raise StateError("%s: %s must be a string" % (where, key))
            order[key] = raw[key]
    for key in _INT_FIELDS:
        if key in raw and raw[key] is not None:
            if not isinstance(raw[key], int) or isinstance(raw[key], bool) or raw[key] < 0:
                raise StateError("%s: %s must be a non-negative integer (fen)" % (where, key))
            order[key] = raw[key]
    if "amount" not in order:
        raise StateError("%s: amount (integer, fen) is required" % where)
    if order.get("out_trade_no", out_trade_no) != out_trade_no:
        raise StateError("%s: out_trade_no inside the object differs from its key" % where)
    order.pop("out_trade_no", None)
    order.setdefault("trade_state", "NOTPAY")
    if not order["trade_state"] or not re.match(r"^[A-Z_]{1,32}$", order["trade_state"]):
        raise StateError("%s: trade_state must be an upper-case word such as NOTPAY" % where)
    if "close_if_closed" in raw:
        value = str(raw["close_if_closed"])
        if value not in _CLOSE_IF_CLOSED:
            raise StateError("%s: close_if_closed must be 204 or \"ORDER_CLOSED\"" % where)
        order["close_if_closed"] = value
    # Empty strings mean "not set" (the brief's example carries "sub_mchid": "").
    for key in list(order):
        if order[key] == "":
            del order[key]
    if order.get("sp_mchid"):
        if not order.get("sub_mchid"):
            raise StateError("%s: a partner order (sp_mchid set) needs sub_mchid" % where)
        order.pop("mchid", None)
    else:
        if order.get("sub_mchid"):
            raise StateError("%s: sub_mchid given without sp_mchid" % where)
        order.setdefault("mchid", sim_keys.DEFAULT_DIRECT_MCHID)
        order.setdefault("appid", DEFAULT_APPID)
    return order


def is_partner(order: dict) -> bool:
    return bool(order.get("sp_mchid"))


class Merchants:
    """Which merchant certificate serial may sign for which mchid; which sub_mchid belongs to which sp."""

    def __init__(self, pki: sim_keys.Pki, entries, base_dir: str):
        self.keys = {pki.merchant.serial: pki.merchant.public_key}
        self.mchids_by_serial = {pki.merchant.serial: {sim_keys.DEFAULT_DIRECT_MCHID, sim_keys.DEFAULT_SP_MCHID}}
        self.subs_by_sp = {sim_keys.DEFAULT_SP_MCHID: {sim_keys.DEFAULT_SUB_MCHID}}
        if entries is None:
            return
        if not isinstance(entries, list):
            raise StateError("merchants: must be a list of objects")
        for i, entry in enumerate(entries):
            where = "merchants[%d]" % i
            if not isinstance(entry, dict) or not isinstance(entry.get("mchid"), str) or not MCHID_RE.match(entry["mchid"]):
                raise StateError("%s: needs \"mchid\" (digits)" % where)
            unknown = set(entry) - {"mchid", "sub_mchids", "serial", "cert"}
            if unknown:
                raise StateError("%s: unknown field(s) %s" % (where, ", ".join(sorted(unknown))))
            serial = pki.merchant.serial
            if "cert" in entry:
                path = entry["cert"]
                if not isinstance(path, str):
                    raise StateError("%s: cert must be a path" % where)
                if not os.path.isabs(path):
                    path = os.path.join(base_dir, path)
                try:
                    key = sim_keys.load_public_key(path)
                    serial = entry.get("serial") or sim_keys.certificate_serial(path)
                except (sim_keys.PkiError, ValueError) as e:
                    raise StateError("%s: %s (a cert without serial must be an X.509 certificate)" % (where, e))
                self.keys[serial] = key
            elif "serial" in entry and entry["serial"] != pki.merchant.serial:
                raise StateError("%s: a serial other than merchant_serial needs \"cert\"" % where)
            self.mchids_by_serial.setdefault(serial, set()).add(entry["mchid"])
            subs = entry.get("sub_mchids")
            if subs is not None:
                if not isinstance(subs, list) or not all(isinstance(s, str) and MCHID_RE.match(s) for s in subs):
                    raise StateError("%s: sub_mchids must be a list of digit strings" % where)
                self.subs_by_sp.setdefault(entry["mchid"], set()).update(subs)

    def key_for_serial(self, serial: str):
        return self.keys.get(serial)

    def may_sign(self, serial: str, mchid: str) -> bool:
        return mchid in self.mchids_by_serial.get(serial, ())

    def sub_belongs(self, sp_mchid: str, sub_mchid: str) -> bool:
        return sub_mchid in self.subs_by_sp.get(sp_mchid, ())


# ---------------------------------------------------------------------------------------------
# Faults

# category decides when a fault is consulted; endpoints = where it can apply.
FAULTS = {
    "delay": ("delay", ("query", "close")),
    "drop": ("drop", ("query", "close")),
    "reset": ("drop", ("query", "close")),
    "http500": ("answer", ("query", "close")),
    "http502": ("answer", ("query", "close")),
    "http429": ("answer", ("query", "close")),
    "system_error": ("answer", ("query", "close")),
    "close_user_paying": ("answer", ("close",)),
    "close_frequency_limited": ("answer", ("close",)),
    "pay_on_close": ("answer", ("close",)),
    "wrong_amount": ("body", ("query",)),
    "wrong_mchid": ("body", ("query",)),
    "wrong_appid": ("body", ("query",)),
    "tamper_signature": ("signature", ("query", "close")),
    "stale_timestamp": ("signature", ("query", "close")),
    "unknown_serial": ("signature", ("query", "close")),
    "signtest": ("signature", ("query", "close")),
}
_FAULT_KEYS = {"fault", "count", "order", "endpoint", "delay_ms", "process", "signed", "field"}


def normalize_fault(raw) -> dict:
    if not isinstance(raw, dict):
        raise StateError("fault: body must be a JSON object")
    unknown = sorted(set(raw) - _FAULT_KEYS)
    if unknown:
        raise StateError("fault: unknown field(s) %s; allowed: %s" % (", ".join(unknown), ", ".join(sorted(_FAULT_KEYS))))
    name = raw.get("fault")
    if name not in FAULTS:
        raise StateError("fault: \"fault\" must be one of %s" % ", ".join(sorted(FAULTS)))
    fault = {"fault": name, "count": raw.get("count", 1), "used": 0}
    if not isinstance(fault["count"], int) or isinstance(fault["count"], bool) or fault["count"] == 0 or fault["count"] < -1:
        raise StateError("fault: count must be a positive integer or -1 (forever)")
    if raw.get("order") is not None:
        if not isinstance(raw["order"], str) or not raw["order"]:
            raise StateError("fault: order must be an out_trade_no string")
        fault["order"] = raw["order"]
    if raw.get("endpoint") is not None:
        if raw["endpoint"] not in ("query", "close"):
            raise StateError("fault: endpoint must be \"query\" or \"close\"")
        if raw["endpoint"] not in FAULTS[name][1]:
            raise StateError("fault: %s never applies to endpoint %s" % (name, raw["endpoint"]))
        fault["endpoint"] = raw["endpoint"]
    if name == "delay":
        delay = raw.get("delay_ms")
        if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0 or delay > 600000:
            raise StateError("fault: delay needs delay_ms, an integer 0..600000")
        fault["delay_ms"] = delay
    elif "delay_ms" in raw:
        raise StateError("fault: delay_ms only applies to the delay fault")
    if "process" in raw:
        if name not in ("drop", "reset") or not isinstance(raw["process"], bool):
            raise StateError("fault: process (boolean) only applies to drop/reset")
        fault["process"] = raw["process"]
    if "signed" in raw:
        if FAULTS[name][0] != "answer" or not isinstance(raw["signed"], bool):
            raise StateError("fault: signed (boolean) only applies to answer faults (http5xx/429, system_error, close_*)")
        fault["signed"] = raw["signed"]
    if "field" in raw:
        allowed = {"wrong_mchid": ("mchid", "sp_mchid", "sub_mchid"),
                   "wrong_appid": ("appid", "sp_appid", "sub_appid")}.get(name)
        if not allowed or raw["field"] not in allowed:
            raise StateError("fault: field applies to wrong_mchid (mchid|sp_mchid|sub_mchid) and wrong_appid (appid|sp_appid|sub_appid)")
        fault["field"] = raw["field"]
    return fault


# ---------------------------------------------------------------------------------------------


class SimState:
    def __init__(self, pki: sim_keys.Pki, state_path, persist: bool, sign_with: str):
        self.lock = threading.RLock()
        self.pki = pki
        self.state_path = state_path
        self.persist = persist and bool(state_path)
        self.document = {}
        self.orders = {}
        self.faults = []
        self.next_fault_id = 1
        self.next_transaction = 0
        self.sign_with = sign_with
        self.clock_offset_s = 0
        self.close_unknown_order = "204"
        self._reset_stats()
        base_dir = os.path.dirname(os.path.abspath(state_path)) if state_path else os.getcwd()
        if state_path:
            self.document = self._load(state_path)
        options = self.document.get("options", {})
        if not isinstance(options, dict):
            raise StateError("options: must be a JSON object")
        unknown = set(options) - {"close_unknown_order", "clock_offset_s", "sign_with"}
        if unknown:
            raise StateError("options: unknown field(s) %s" % ", ".join(sorted(unknown)))
        self.apply_settings(options)
        self.merchants = Merchants(pki, self.document.get("merchants"), base_dir)
        orders = self.document.get("orders", {})
        if not isinstance(orders, dict):
            raise StateError("orders: must be a JSON object keyed by out_trade_no")
        for no, raw in orders.items():
            self.orders[no] = self._complete(normalize_order(no, raw))

    @staticmethod
    def _load(path):
        try:
            with open(path, "rb") as f:
                doc = json.loads(f.read().decode("utf-8"))
        except OSError as e:
            raise StateError("cannot read state file %s: %s" % (path, e.strerror))
        except (ValueError, UnicodeDecodeError) as e:
            raise StateError("state file %s is not valid JSON: %s" % (path, e))
        if not isinstance(doc, dict):
            raise StateError("state file %s: top level must be a JSON object" % path)
        unknown = set(doc) - {"orders", "options", "merchants"}
        if unknown:
            raise StateError("state file %s: unknown top-level key(s) %s" % (path, ", ".join(sorted(unknown))))
        return doc

    # --- settings ------------------------------------------------------------------------
    def apply_settings(self, settings: dict):
        """Validates and applies runtime settings (state-file "options" and POST /_sim/config)."""
        if "close_unknown_order" in settings:
            value = str(settings["close_unknown_order"])
            if value not in _CLOSE_UNKNOWN:
                raise StateError("close_unknown_order must be 204 or \"ORDER_NOT_EXIST\"")
        if "clock_offset_s" in settings:
            v = settings["clock_offset_s"]
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise StateError("clock_offset_s must be a number of seconds")
        if "sign_with" in settings and settings["sign_with"] not in self.pki.response_keys:
            raise StateError("sign_with must be one of %s" % ", ".join(sorted(self.pki.response_keys)))
        with self.lock:
            if "close_unknown_order" in settings:
                self.close_unknown_order = str(settings["close_unknown_order"])
            if "clock_offset_s" in settings:
                self.clock_offset_s = settings["clock_offset_s"]
            if "sign_with" in settings:
                self.sign_with = settings["sign_with"]

    def settings(self) -> dict:
        with self.lock:
            return {"close_unknown_order": self.close_unknown_order if self.close_unknown_order != "204" else 204,
                    "clock_offset_s": self.clock_offset_s, "sign_with": self.sign_with}

    def now(self) -> float:
        return time.time() + self.clock_offset_s

    # --- orders --------------------------------------------------------------------------
    def _complete(self, order: dict) -> dict:
        """Paid orders always carry a transaction_id and success_time (stable once assigned)."""
        if order["trade_state"] in PAID_STATES:
            if not order.get("transaction_id"):
                self.next_transaction += 1
                taken = {o.get("transaction_id") for o in self.orders.values() if o is not order}
                candidate = "4200%012d%016d" % (int(self.now()) % 10 ** 12, self.next_transaction)
                while candidate in taken:
                    self.next_transaction += 1
                    candidate = "4200%012d%016d" % (int(self.now()) % 10 ** 12, self.next_transaction)
                order["transaction_id"] = candidate
            order.setdefault("success_time", beijing_time(self.now()))
            order.setdefault("trade_type", "NATIVE")
            order.setdefault("bank_type", "OTHERS")
        return order

    def put_order(self, no: str, raw) -> dict:
        order = normalize_order(no, raw)
        with self.lock:
            self.orders[no] = self._complete(order)
            self._save()
            return copy.deepcopy(self.orders[no])

    def delete_order(self, no: str) -> bool:
        with self.lock:
            existed = self.orders.pop(no, None) is not None
            if existed:
                self._save()
            return existed

    def get_order(self, no: str):
        with self.lock:
            order = self.orders.get(no)
            return copy.deepcopy(order) if order is not None else None

    def set_trade_state(self, no: str, trade_state: str):
        with self.lock:
            order = self.orders[no]
            order["trade_state"] = trade_state
            order.pop("trade_state_desc", None)
            self._complete(order)
            self._save()

    def find_by_transaction_id(self, transaction_id: str):
        with self.lock:
            for no, order in self.orders.items():
                if order.get("transaction_id") == transaction_id and order["trade_state"] in PAID_STATES:
                    return no
            return None

    def _save(self):
        if not self.persist:
            return
        doc = dict(self.document)
        doc["orders"] = self.orders
        tmp = "%s.tmp.%d" % (self.state_path, os.getpid())
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, self.state_path)

    # --- faults --------------------------------------------------------------------------
    def add_fault(self, raw) -> dict:
        fault = normalize_fault(raw)
        with self.lock:
            fault["id"] = self.next_fault_id
            self.next_fault_id += 1
            self.faults.append(fault)
            return dict(fault)

    def clear_faults(self, fault_id=None) -> int:
        with self.lock:
            before = len(self.faults)
            self.faults = [f for f in self.faults if fault_id is not None and f["id"] != fault_id]
            return before - len(self.faults)

    def list_faults(self):
        with self.lock:
            return [dict(f) for f in self.faults]

    def take_fault(self, category: str, endpoint: str, order_no, predicate=None):
        """Consumes and returns the first active fault of `category` matching the request."""
        with self.lock:
            for fault in self.faults:
                name = fault["fault"]
                if FAULTS[name][0] != category or endpoint not in FAULTS[name][1]:
                    continue
                if fault.get("endpoint") not in (None, endpoint):
                    continue
                if fault.get("order") is not None and fault["order"] != order_no:
                    continue
                if predicate is not None and not predicate(fault):
                    continue
                fault["used"] += 1
                if fault["count"] > 0:
                    fault["count"] -= 1
                    if fault["count"] == 0:
                        self.faults.remove(fault)
                self.stats["faults"][name] = self.stats["faults"].get(name, 0) + 1
                return dict(fault)
            return None

    # --- stats ---------------------------------------------------------------------------
    def _reset_stats(self):
        self.stats = {"requests": {"query": 0, "close": 0}, "by_order": {}, "rejected": {},
                      "rejected_reasons": {}, "faults": {}, "statuses": {}}

    def reset_stats(self):
        with self.lock:
            self._reset_stats()

    def count_request(self, endpoint: str, order_no):
        with self.lock:
            req = self.stats["requests"]
            req[endpoint] = req.get(endpoint, 0) + 1
            if order_no is not None and endpoint in ("query", "close"):
                per = self.stats["by_order"].setdefault(order_no, {"query": 0, "close": 0})
                per[endpoint] += 1

    def count_rejection(self, code: str, reason: str):
        with self.lock:
            rej = self.stats["rejected"]
            rej[code] = rej.get(code, 0) + 1
            reasons = self.stats["rejected_reasons"]
            reasons[reason] = reasons.get(reason, 0) + 1

    def count_status(self, status):
        with self.lock:
            key = str(status)
            self.stats["statuses"][key] = self.stats["statuses"].get(key, 0) + 1

    def stats_snapshot(self) -> dict:
        with self.lock:
            return copy.deepcopy(self.stats)
