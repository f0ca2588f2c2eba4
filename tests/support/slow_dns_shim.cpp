// wspulse_client tests — an LD_PRELOAD shim that makes name resolution slow on demand: a host
// name "<ms>.slow.wspulse.test" resolves to 127.0.0.1 after <ms> milliseconds; every other
// name goes to the real getaddrinfo. The tests read how many slow lookups started and finished
// through the two functions below (found with dlsym: present only when the shim is loaded).
// SPDX-License-Identifier: MIT
#include <dlfcn.h>
#include <netdb.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace {
std::atomic<int> started{0};
std::atomic<int> finished{0};
using getaddrinfo_fn = int (*)(const char*, const char*, const addrinfo*, addrinfo**);
constexpr char slow_suffix[] = ".slow.wspulse.test";
}  // namespace

extern "C" int wspulse_slow_dns_started() { return started.load(); }
extern "C" int wspulse_slow_dns_finished() { return finished.load(); }

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                           addrinfo** res) {
  static const auto real = reinterpret_cast<getaddrinfo_fn>(dlsym(RTLD_NEXT, "getaddrinfo"));
  const std::size_t n = node != nullptr ? std::strlen(node) : 0;
  const std::size_t m = sizeof(slow_suffix) - 1;
  if (n <= m || std::strcmp(node + n - m, slow_suffix) != 0) return real(node, service, hints, res);
  ++started;
  std::this_thread::sleep_for(std::chrono::milliseconds(std::strtol(node, nullptr, 10)));
  const int rc = real("127.0.0.1", service, hints, res);
  ++finished;
  return rc;
}
