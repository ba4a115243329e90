# WeChat Pay API v3 client: signing, verification, keys, libcurl transport.
wechatpay_SRCS := \
  src/wechatpay/api_requests.cc \
  src/wechatpay/base64.cc \
  src/wechatpay/client.cc \
  src/wechatpay/curl_transport.cc \
  src/wechatpay/error_classifier.cc \
  src/wechatpay/http.cc \
  src/wechatpay/key_store.cc \
  src/wechatpay/nonce.cc \
  src/wechatpay/openssl_errors.cc \
  src/wechatpay/pem_files.cc \
  src/wechatpay/rate_limiter.cc \
  src/wechatpay/request_signer.cc \
  src/wechatpay/response_verifier.cc \
  src/wechatpay/rsa_sha256.cc \
  src/wechatpay/trade_json.cc \
  src/wechatpay/url.cc
$(eval $(call module,wechatpay))

$(eval $(call test_binary,wechatpay_unit,\
  tests/wechatpay/test_data.cc \
  tests/wechatpay/base64_test.cc \
  tests/wechatpay/signer_test.cc \
  tests/wechatpay/verifier_test.cc \
  tests/wechatpay/key_store_test.cc \
  tests/wechatpay/api_requests_test.cc \
  tests/wechatpay/error_classifier_test.cc \
  tests/wechatpay/trade_json_test.cc \
  tests/wechatpay/rate_limiter_test.cc \
  tests/wechatpay/url_test.cc \
  tests/wechatpay/client_test.cc,\
  wechatpay ops core))

$(eval $(call test_binary,wechatpay_it,\
  tests/wechatpay/test_data.cc \
  tests/wechatpay/sim_fixture.cc \
  tests/wechatpay/client_it.cc,\
  wechatpay ops core))
