"""WeChat Pay APIv3 behaviour: request checks, query and close, faults, response signing.

Transport-free: `WeChatApi.handle(Request)` returns an `Answer`; the HTTP layer
(wxpay_sim.py) writes it, sleeps for a delay fault or drops the connection.
Choices where WeChat Pay's behaviour is not documented are listed in README.md.
"""

import base64
import json
import re
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

import sim_keys
import sim_state

SIGN_ERROR_MESSAGE = "错误的签名，验签失败"

# Internal error numbers WeChat Pay appends to Request-ID (wechatpay-v3.md §1, §3.4).
INTERNAL_CODE = {
    "OK": 0,
    "ORDER_NOT_EXIST": 268512771,
    "SIGN_ERROR": 268443699,
    "ORDER_PAID": 268449538,
    "FREQUENCY_LIMITED": 268447840,
    "PARAM_ERROR": 268435461,
    "TRADE_ERROR": 268449641,
}


@dataclass
class Request:
    method: str
    target: str                 # raw request-target as received: path?query, still escaped
    headers: dict               # lower-case name -> value
    body: bytes


@dataclass
class Answer:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    signed: bool = True
    code: str = "OK"            # for Request-ID and logs
    drop: str = ""              # "", "close" (FIN) or "reset" (RST): write nothing
    signature_fault: str = ""
    sign_request_serial: str = ""
    endpoint: str = "other"
    order_no: object = None
    extra_headers: dict = field(default_factory=dict)


def _json(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error(status: int, code: str, message: str, detail=None, signed=True) -> Answer:
    body = {"code": code, "message": message}
    if detail is not None:
        body["detail"] = detail
    return Answer(status, _json(body), signed=signed, code=code)


class Rejected(Exception):
    """A request refused by the request checks (counted in stats "rejected")."""

    def __init__(self, answer: Answer, reason: str):
        super().__init__(reason)
        self.answer = answer
        self.reason = reason


def _sign_error(reason: str, detail=None) -> Rejected:
    return Rejected(error(401, "SIGN_ERROR", SIGN_ERROR_MESSAGE, detail), reason)


def _param_error(message: str, field_name: str, location: str) -> Rejected:
    return Rejected(error(400, "PARAM_ERROR", message,
                          {"field": field_name, "location": location}), "param_" + field_name)


@dataclass
class Route:
    endpoint: str       # "query" | "close"
    partner: bool
    by: str             # "out_trade_no" | "transaction_id"
    ident: str          # decoded path identifier


_ROUTES = [
    ("GET", re.compile(r"^/v3/pay/transactions/out-trade-no/([^/]+)$"), "query", False, "out_trade_no"),
    ("GET", re.compile(r"^/v3/pay/transactions/id/([^/]+)$"), "query", False, "transaction_id"),
    ("POST", re.compile(r"^/v3/pay/transactions/out-trade-no/([^/]+)/close$"), "close", False, "out_trade_no"),
    ("GET", re.compile(r"^/v3/pay/partner/transactions/out-trade-no/([^/]+)$"), "query", True, "out_trade_no"),
    ("GET", re.compile(r"^/v3/pay/partner/transactions/id/([^/]+)$"), "query", True, "transaction_id"),
    ("POST", re.compile(r"^/v3/pay/partner/transactions/out-trade-no/([^/]+)/close$"), "close", True, "out_trade_no"),
]


def route(method: str, path: str):
    for m, pattern, endpoint, partner, by in _ROUTES:
        match = pattern.match(path)
        if match and m == method:
            return Route(endpoint, partner, by, urllib.parse.unquote(match.group(1), errors="strict"))
    return None


class WeChatApi:
    def __init__(self, state: sim_state.SimState):
        self.state = state
        self.pki = state.pki
        self._request_counter = 0
        self._counter_lock = threading.Lock()

    # ---------------------------------------------------------------------------------
    def handle(self, req: Request, sleep=time.sleep) -> Answer:
        path, _, query = req.target.partition("?")
        try:
            r = route(req.method, path)
        except UnicodeDecodeError:
            r = None
        if r is None:
            self.state.count_request("other", None)
            answer = error(404, "NOT_FOUND", "请求的资源不存在: %s %s" % (req.method, path))
            return self._finish(answer, req)
        order_no = r.ident if r.by == "out_trade_no" else self.state.find_by_transaction_id(r.ident)
        self.state.count_request(r.endpoint, order_no)
        try:
            merchant = self._check(req, r, query)
        except Rejected as rej:
            self.state.count_rejection(rej.answer.code, rej.reason)
            rej.answer.endpoint, rej.answer.order_no = r.endpoint, order_no
            return self._finish(rej.answer, req)

        delay = self.state.take_fault("delay", r.endpoint, order_no)
        if delay:
            sleep(delay["delay_ms"] / 1000.0)
        drop = self.state.take_fault("drop", r.endpoint, order_no)
        if drop:
            if drop.get("process"):
                self._process(r, merchant)
            return Answer(0, drop="reset" if drop["fault"] == "reset" else "close",
                          endpoint=r.endpoint, order_no=order_no, code="DROPPED")

        answer = self._answer_fault(r, merchant, order_no)
        if answer is None:
            answer = self._process(r, merchant)
            if answer.status == 200 and r.endpoint == "query":
                body_fault = self.state.take_fault("body", r.endpoint, order_no)
                if body_fault:
                    answer.body = _json(self._mutate(json.loads(answer.body), body_fault, r.partner))
        if answer.signed:
            sig_fault = self.state.take_fault("signature", r.endpoint, order_no)
            if sig_fault:
                answer.signature_fault = sig_fault["fault"]
        answer.endpoint, answer.order_no = r.endpoint, order_no
        return self._finish(answer, req)

    # --- request checks ---------------------------------------------------------------
    def _check(self, req: Request, r: Route, query: str) -> dict:
        """All of WeChat Pay's request rules; returns the merchant identity of the request."""
        if not req.headers.get("user-agent", "").strip() or not req.headers.get("accept", "").strip():
            raise Rejected(error(400, "INVALID_REQUEST", "Http头缺少Accept或User-Agent"), "missing_ua_or_accept")
        if r.endpoint == "close":
            ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                raise Rejected(error(400, "INVALID_REQUEST", "Content-Type必须为application/json"), "content_type")

        auth_header = req.headers.get("authorization")
        if not auth_header:
            raise _sign_error("missing_authorization", {"field": "authorization", "issue": "Http头缺少Authorization", "location": "header"})
        auth = sim_keys.parse_authorization(auth_header)
        if auth is None:
            raise _sign_error("malformed_authorization", {
                "field": "authorization", "location": "header",
                "issue": "Authorization格式错误：需要 %s mchid=\"..\",nonce_str=\"..\",signature=\"..\",timestamp=\"..\",serial_no=\"..\"" % sim_keys.AUTH_SCHEME})
        merchant_key = self.state.merchants.key_for_serial(auth["serial_no"])
        if merchant_key is None:
            raise _sign_error("unknown_serial", {"field": "serial_no", "issue": "商户证书序列号有误", "location": "authorization"})
        if not self.state.merchants.may_sign(auth["serial_no"], auth["mchid"]):
            raise _sign_error("mchid_not_of_serial", {"field": "mchid", "issue": "商户号与证书序列号不匹配", "location": "authorization"})
        ts = auth["timestamp"]
        if not re.match(r"^[0-9]{1,12}$", ts) or abs(int(ts) - self.state.now()) > 300:
            raise _sign_error("timestamp_out_of_window", {"field": "timestamp", "issue": "timestamp超出有效期(±300秒)", "location": "authorization"})
        message = sim_keys.request_message(req.method, req.target, ts, auth["nonce_str"], req.body)
        if not auth["nonce_str"] or not sim_keys.verify(merchant_key, message, auth["signature"]):
            text = message.decode("utf-8", errors="replace")
            raise _sign_error("bad_signature", {
                "detail": {"issue": "sign not match"}, "field": "signature", "location": "authorization",
                "sign_information": {"method": req.method, "url": req.target, "sign_message_length": len(message),
                                     "truncated_sign_message": text[:200]}})

        if r.endpoint == "close":
            fields = self._close_body(req.body, r.partner)
        else:
            fields = self._query_params(query, r.partner)
        self._check_ident(r)
        if r.partner:
            if fields["sp_mchid"] != auth["mchid"]:
                raise _sign_error("mchid_mismatch", {"issue": "http header中的mchid与%s中的sp_mchid不匹配" % self._where(r), "field": "sp_mchid"})
            if not self.state.merchants.sub_belongs(fields["sp_mchid"], fields["sub_mchid"]):
                raise _sign_error("sub_mchid_not_of_sp", {"issue": "子商户号与服务商不存在受理关系", "field": "sub_mchid"})
        elif fields["mchid"] != auth["mchid"]:
            raise _sign_error("mchid_mismatch", {"issue": "http header中的mchid与%s中的mchid不匹配" % self._where(r), "field": "mchid"})
        return fields

    @staticmethod
    def _where(r: Route) -> str:
        return "post payload" if r.endpoint == "close" else "query string"

    @staticmethod
    def _check_ident(r: Route):
        if r.by == "out_trade_no" and not sim_state.ORDER_NO_RE.match(r.ident):
            raise _param_error("out_trade_no格式错误：6-32位数字、字母或_-|*", "out_trade_no", "path")
        if r.by == "transaction_id" and not sim_state.TRANSACTION_ID_RE.match(r.ident):
            raise _param_error("transaction_id格式错误", "transaction_id", "path")

    @staticmethod
    def _query_params(query: str, partner: bool) -> dict:
        try:
            pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query), errors="strict")
        except (ValueError, UnicodeDecodeError):
            raise _param_error("查询参数格式错误", "query", "query")
        params = {}
        for k, v in pairs:
            if k in params:
                raise _param_error("查询参数%s重复" % k, k, "query")
            params[k] = v
        needed = ("sp_mchid", "sub_mchid") if partner else ("mchid",)
        for name in needed:
            if not sim_state.MCHID_RE.match(params.get(name, "")):
                raise _param_error("输入源“/querystring/%s”映射到值字段“%s”字符串规则校验失败" % (name, name), name, "query")
        return {name: params[name] for name in needed}

    @staticmethod
    def _close_body(body: bytes, partner: bool) -> dict:
        try:
            doc = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise _param_error("请求体不是合法的JSON", "body", "body")
        needed = ("sp_mchid", "sub_mchid") if partner else ("mchid",)
        if not isinstance(doc, dict):
            raise _param_error("请求体必须是JSON对象", "body", "body")
        extra = sorted(set(doc) - set(needed))
        if extra:
            raise _param_error("请求体含有不允许的字段: %s" % ", ".join(extra), "/" + extra[0], "body")
        for name in needed:
            if not isinstance(doc.get(name), str) or not sim_state.MCHID_RE.match(doc[name]):
                raise _param_error("输入源“/body/%s”映射到值字段“%s”字符串规则校验失败" % (name, name), "/" + name, "body")
        return {name: doc[name] for name in needed}

    # --- business ---------------------------------------------------------------------
    def _lookup(self, r: Route, merchant: dict):
        """The order this merchant may see, or None (another merchant's order does not exist for it)."""
        no = r.ident if r.by == "out_trade_no" else self.state.find_by_transaction_id(r.ident)
        if no is None:
            return None, None
        order = self.state.get_order(no)
        if order is None:
            return None, None
        if r.partner:
            ok = (sim_state.is_partner(order) and order["sp_mchid"] == merchant["sp_mchid"]
                  and order["sub_mchid"] == merchant["sub_mchid"])
        else:
            ok = not sim_state.is_partner(order) and order["mchid"] == merchant["mchid"]
        return (no, order) if ok else (None, None)

    def _process(self, r: Route, merchant: dict) -> Answer:
        with self.state.lock:   # a close is a read-modify-write of one order
            no, order = self._lookup(r, merchant)
            if r.endpoint == "query":
                if order is None:
                    return error(404, "ORDER_NOT_EXIST", "订单不存在")
                return Answer(200, _json(self._transaction(no, order, r.partner)))
            return self._close(r, no, order)

    def _close(self, r: Route, no, order) -> Answer:
        if order is None:
            if self.state.close_unknown_order == "ORDER_NOT_EXIST":
                return error(404, "ORDER_NOT_EXIST", "订单不存在")
            return Answer(204, signed=True)
        trade_state = order["trade_state"]
        if trade_state in sim_state.PAID_STATES:
            return error(400, "ORDER_PAID", "订单已支付")
        if trade_state == "CLOSED":
            if order.get("close_if_closed") == "ORDER_CLOSED":
                return error(400, "ORDER_CLOSED", "订单已关闭")
            return Answer(204)
        if trade_state in ("PAYERROR", "USERPAYING", "REVOKED"):
            # Payment-code (付款码) orders cannot be closed, only reversed (internal code 268449641).
            return error(403, "TRADE_ERROR", "当前交易不允许进行普通关单（只能撤销）")
        self.state.set_trade_state(no, "CLOSED")
        return Answer(204)

    def _transaction(self, no: str, order: dict, partner: bool) -> dict:
        state = order["trade_state"]
        paid = state in sim_state.PAID_STATES
        t = {}
        if partner:
            t["sp_appid"] = order.get("sp_appid") or order.get("appid") or sim_state.DEFAULT_APPID
            t["sp_mchid"] = order["sp_mchid"]
            if order.get("sub_appid"):
                t["sub_appid"] = order["sub_appid"]
            t["sub_mchid"] = order["sub_mchid"]
        else:
            t["appid"] = order["appid"]
            t["mchid"] = order["mchid"]
        t["out_trade_no"] = no
        if paid:
            t["transaction_id"] = order["transaction_id"]
        if order.get("trade_type") or paid:
            t["trade_type"] = order.get("trade_type", "NATIVE")
        t["trade_state"] = state
        t["trade_state_desc"] = order.get("trade_state_desc") or sim_state.TRADE_STATE_DESC.get(state, state)
        if paid:
            t["bank_type"] = order.get("bank_type", "OTHERS")
        t["attach"] = order.get("attach", "")
        if paid:
            t["success_time"] = order["success_time"]
            openid = order.get("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
            t["payer"] = {"sp_openid": openid} if partner else {"openid": openid}
        else:
            t["payer"] = {}
        currency = order.get("currency", "CNY")
        t["amount"] = {"total": order["amount"],
                       "payer_total": order.get("payer_total", order["amount"] if paid else 0),
                       "currency": currency, "payer_currency": currency}
        t["promotion_detail"] = []
        return t

    # --- faults ----------------------------------------------------------------------
    def _answer_fault(self, r: Route, merchant: dict, order_no):
        def payable(fault):
            if fault["fault"] != "pay_on_close":
                return True
            _, order = self._lookup(r, merchant)
            return order is not None and order["trade_state"] not in ("CLOSED", "REVOKED", "SUCCESS", "REFUND")

        with self.state.lock:
            fault = self.state.take_fault("answer", r.endpoint, order_no, payable)
            if fault is None:
                return None
            name = fault["fault"]
            if name == "pay_on_close":
                no, _ = self._lookup(r, merchant)
                self.state.set_trade_state(no, "SUCCESS")
        if name == "http500":
            answer = Answer(500, b"<html><head><title>500 Internal Server Error</title></head><body><center><h1>500 Internal Server Error</h1></center></body></html>\n",
                            content_type="text/html", signed=False, code="HTTP500")
        elif name == "http502":
            answer = Answer(502, b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n",
                            content_type="text/html", signed=False, code="HTTP502")
        elif name == "http429":
            answer = error(429, "FREQUENCY_LIMITED", "请求频率超过限制，请降低频率后重试")
        elif name == "system_error":
            answer = error(500, "SYSTEM_ERROR", "系统异常，请稍后重试")
        elif name == "close_user_paying":
            answer = error(202, "USER_PAYING", "用户支付中，需要输入密码")
        elif name == "close_frequency_limited":
            answer = error(403, "FREQUENCY_LIMITED", "频率超限，请稍后再试")
        else:  # pay_on_close
            answer = error(400, "ORDER_PAID", "订单已支付")
        if "signed" in fault:
            answer.signed = fault["signed"]
        return answer

    @staticmethod
    def _mutate(t: dict, fault: dict, partner: bool) -> dict:
        name = fault["fault"]
        if name == "wrong_amount":
            t["amount"]["total"] += 1
            if t["amount"]["payer_total"]:
                t["amount"]["payer_total"] += 1
        elif name == "wrong_mchid":
            key = fault.get("field") or ("sub_mchid" if partner else "mchid")
            t[key] = str(int(t.get(key) or "1900000000") + 1)
        elif name == "wrong_appid":
            key = fault.get("field") or (("sub_appid" if "sub_appid" in t else "sp_appid") if partner else "appid")
            t[key] = "wx0000000000000bad"
        return t

    # --- response signing ------------------------------------------------------------
    def _request_id(self, code: str) -> str:
        with self._counter_lock:
            self._request_counter += 1
            n = self._request_counter
        return "08%08X%08X%s-%d" % (int(time.time()) & 0xFFFFFFFF, n & 0xFFFFFFFF,
                                   secrets.token_hex(12).upper(), INTERNAL_CODE.get(code, 0))

    def _finish(self, answer: Answer, req: Request) -> Answer:
        answer.sign_request_serial = req.headers.get("wechatpay-serial", "")
        self.state.count_status(answer.status if not answer.drop else "dropped")
        if answer.drop:
            return answer
        headers = {"Request-ID": self._request_id(answer.code)}
        if answer.signed:
            headers.update(self.signature_headers(answer.body, answer.sign_request_serial, answer.signature_fault))
        answer.extra_headers = headers
        return answer

    def response_key(self, request_serial: str):
        """The request's Wechatpay-Serial says which key the client can verify with:
        any PUB_KEY_ID_... selects the public-key-mode key (answered with the real id),
        a known platform serial that certificate; anything else the default (--sign-with)."""
        if request_serial.startswith("PUB_KEY_ID_"):
            return self.pki.response_keys["pubkey"]
        key = self.pki.response_key_for_serial(request_serial) if request_serial else None
        return key or self.pki.response_keys[self.state.sign_with]

    def signature_headers(self, body: bytes, request_serial: str, fault: str = "") -> dict:
        key = self.response_key(request_serial)
        ts = int(self.state.now())
        if fault == "stale_timestamp":
            ts -= 600
        nonce = secrets.token_hex(16)
        signature = sim_keys.sign(key.private_key, sim_keys.response_message(str(ts), nonce, body))
        serial = key.serial
        if fault == "tamper_signature":
            raw = bytearray(base64.b64decode(signature))
            raw[len(raw) // 2] ^= 0x01
            signature = base64.b64encode(bytes(raw)).decode("ascii")
        elif fault == "signtest":
            signature = "WECHATPAY/SIGNTEST/" + base64.b64encode(secrets.token_bytes(192)).decode("ascii")
        elif fault == "unknown_serial":
            serial = ("PUB_KEY_ID_0114232134912419999999999999999999" if key.name == "pubkey"
                      else "7" + secrets.token_hex(19).upper() + "F")
        return {
            "Wechatpay-Timestamp": str(ts),
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": signature,
            "Wechatpay-Serial": serial,
            "Wechatpay-Signature-Type": sim_keys.AUTH_SCHEME,
        }
