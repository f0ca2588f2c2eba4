// wspulse_client — wss:// transport (only with WSPULSE_CLIENT_ENABLE_TLS): websocketpp's TLS
// socket with two fixes. SNI carries host names only (RFC 6066 forbids IP literals, which
// websocketpp 0.8.2 sends anyway), and the real cause of a failed handshake (verification,
// protocol version, the server's alert) is recorded, since websocketpp reports only "TLS
// handshake failed".
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

// Index of the SSL_CTX slot that holds the failure text (asio uses the app-data slot). The
// slot owns a shared_ptr to it, freed with the context.
inline int tls_failure_slot() {
  static const int slot = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::shared_ptr<std::string>*>(ptr);
      });
  return slot;
}

// The failure text of the dial `ssl` belongs to (nullptr when none is attached).
inline std::string* tls_failure_of(const SSL* ssl) {
  auto* slot = static_cast<std::shared_ptr<std::string>*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_failure_slot()));
  return slot == nullptr ? nullptr : slot->get();
}

// Alerts say why a handshake failed when no certificate check did: a protocol version refused
// either way (the client never accepts TLS < 1.2), or any other fatal alert from the server.
// The first cause recorded wins.
inline void record_tls_alert(const SSL* ssl, int where, int value) {
  if (!(where & SSL_CB_ALERT) || (value >> 8) != SSL3_AL_FATAL) return;
  std::string* failure = tls_failure_of(ssl);
  if (failure == nullptr || !failure->empty()) return;
  const bool protocol_version = (value & 0xff) == SSL_AD_PROTOCOL_VERSION;
  if (where & SSL_CB_WRITE) {
    if (protocol_version)
      *failure = "protocol version refused: the server offered TLS older than 1.2";
  } else if (protocol_version) {
    *failure = "protocol version refused: the server supports neither TLS 1.2 nor TLS 1.3";
  } else {
    *failure =
        std::string("the server refused the TLS session: ") + SSL_alert_desc_string_long(value);
  }
}

// Called only when the server asks for a client certificate and none is set. Under TLS 1.3 the
// server refuses it after the client's handshake is done, often by closing without an alert:
// this note is then the only trace of the cause. Sends no certificate.
inline int note_client_cert_request(SSL* ssl, X509**, EVP_PKEY**) {
  std::string* failure = tls_failure_of(ssl);
  if (failure != nullptr && failure->empty())
    *failure = "the server asks for a client certificate and none is set (tls_client_cert)";
  return 0;
}

/// The TLS context of one dial: TLS 1.2 or newer; peer and host-name verification unless
/// turned off; the client certificate if one is set. The first cause of a failure (a file that
/// cannot be used, a failed verification, a refused protocol version, an alert from the server)
/// is written to *failure; a context that cannot be built is returned empty.
template <class Options>
std::shared_ptr<asio::ssl::context> make_tls_context(const std::string& host, const Options& opts,
                                                     std::shared_ptr<std::string> failure) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  SSL_CTX_set_ex_data(ctx->native_handle(), tls_failure_slot(),
                      new std::shared_ptr<std::string>(failure));
  SSL_CTX_set_info_callback(ctx->native_handle(), record_tls_alert);

  // Files: a missing or unreadable one fails the dial with a reason that names it.
  const auto use_file = [&](const char* what, const std::string& path, auto&& load) {
    std::error_code ec;
    load(ec);
    if (ec) *failure = std::string("cannot use ") + what + " '" + path + "': " + ec.message();
    return !ec;
  };
  const std::string& cert = opts.tls_client_cert_file();
  const std::string& key = opts.tls_client_key_file();
  if (cert.empty()) {
    SSL_CTX_set_client_cert_cb(ctx->native_handle(), note_client_cert_request);
  } else if (!use_file("client certificate file", cert,
                       [&](std::error_code& ec) { ctx->use_certificate_chain_file(cert, ec); }) ||
             !use_file("client key file", key, [&](std::error_code& ec) {
               // OpenSSL also refuses a key that does not match the certificate here.
               ctx->use_private_key_file(key, asio::ssl::context::pem, ec);
             })) {
    return nullptr;
  }

  if (!opts.tls_verify()) {
    ctx->set_verify_mode(asio::ssl::verify_none);
    return ctx;
  }
  const std::string& ca_file = opts.tls_ca_file();
  if (ca_file.empty()) {
    std::error_code ec;
    ctx->set_default_verify_paths(ec);
    if (ec) {
      *failure = "cannot use the system's CA certificates: " + ec.message();
      return nullptr;
    }
  } else if (!use_file("CA file", ca_file,
                       [&](std::error_code& ec) { ctx->load_verify_file(ca_file, ec); })) {
    return nullptr;
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
