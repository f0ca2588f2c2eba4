// wspulse_client — wss:// transport (only with WSPULSE_CLIENT_ENABLE_TLS): websocketpp's TLS
// socket with two fixes. SNI carries host names only (RFC 6066 forbids IP literals, which
// websocketpp 0.8.2 sends anyway), and the real cause of a failed verification is recorded,
// since websocketpp reports only "TLS handshake failed".
// SPDX-License-Identifier: MIT
#pragma once

#ifdef WSPULSE_CLIENT_ENABLE_TLS

#include "transport.hpp"

#include <asio/ip/address.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <websocketpp/transport/asio/security/tls.hpp>

#include <memory>
#include <string>
#include <utility>

namespace wspulse {
namespace detail {

inline bool is_ip_literal(const std::string& host) {
  std::error_code ec;
  const std::string bare =
      host.size() > 1 && host.front() == '[' ? host.substr(1, host.size() - 2) : host;
  asio::ip::make_address(bare, ec);
  return !ec;
}

class sni_tls_connection : public websocketpp::transport::asio::tls_socket::connection {
  using base = websocketpp::transport::asio::tls_socket::connection;

 public:
  using type = sni_tls_connection;
  using ptr = websocketpp::lib::shared_ptr<type>;

  /// Host to name in SNI; empty (an IP literal) sends no SNI.
  void set_sni_host(std::string host) { sni_host_ = std::move(host); }

 protected:
  // Hides websocketpp's pre_init (the transport connection derived from this calls it), which always sends the URI host as SNI.
  void pre_init(websocketpp::transport::init_handler callback) {
    if (!sni_host_.empty() &&
        SSL_set_tlsext_host_name(get_socket().native_handle(), sni_host_.c_str()) != 1) {
      return callback(websocketpp::transport::asio::socket::make_error_code(
          websocketpp::transport::asio::socket::error::tls_failed_sni_hostname));
    }
    callback(websocketpp::lib::error_code());
  }

 private:
  std::string sni_host_;
};

class sni_tls_endpoint : public websocketpp::transport::asio::tls_socket::endpoint {
 public:
  using socket_con_type = sni_tls_connection;
  using socket_con_ptr = sni_tls_connection::ptr;
};

using tls_client_config = observed_client_config<sni_tls_endpoint>;
using tls_endpoint = websocketpp::client<tls_client_config>;

/// The TLS context of one dial: peer and host-name verification unless turned off; the first
/// verification failure is written to *failure.
inline std::shared_ptr<asio::ssl::context> make_tls_context(const std::string& host, bool verify,
                                                            const std::string& ca_file,
                                                            std::shared_ptr<std::string> failure) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  if (!verify) {
    ctx->set_verify_mode(asio::ssl::verify_none);
    return ctx;
  }
  if (ca_file.empty()) {
    ctx->set_default_verify_paths();
  } else {
    ctx->load_verify_file(ca_file);  // throws std::system_error for a missing or bad file
  }
  ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  const std::string bare =
      host.size() > 1 && host.front() == '[' ? host.substr(1, host.size() - 2) : host;
  ctx->set_verify_callback([check = asio::ssl::host_name_verification(bare), failure](
                               bool preverified, asio::ssl::verify_context& vc) {
    const bool ok = check(preverified, vc);
    if (!ok && failure->empty()) {
      X509_STORE_CTX* store = vc.native_handle();
      const int err = X509_STORE_CTX_get_error(store);
      *failure = err != X509_V_OK ? X509_verify_cert_error_string(err)
                                  : "certificate does not match the host name";
    }
    return ok;
  });
  return ctx;
}

}  // namespace detail
}  // namespace wspulse

#endif  // WSPULSE_CLIENT_ENABLE_TLS
