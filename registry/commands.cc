#include "registry/commands.h"

#include <pthread.h>
#include <signal.h>

#include <iomanip>
#include <thread>

#include "common/file.h"
#include "registry/auth.h"

namespace arca::registry {
namespace {

std::string TokenFilePath(const std::string& data_dir) { return data_dir + "/tokens.json"; }

}  // namespace

Result<ListenAddress> ParseListenAddress(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return InvalidArgumentError("--listen must be HOST:PORT, not \"" + text + "\"");
  ListenAddress a;
  a.host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  if (a.host.empty()) a.host = "0.0.0.0";
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    return InvalidArgumentError("bad port \"" + port + "\" in --listen");
  }
  a.port = std::stoi(port);
  return a;
}

int ServeCommand(const std::string& data_dir, const std::string& listen, ServerOptions options, std::ostream& out,
                 std::ostream& err, const BackgroundTask& background) {
  Result<ListenAddress> addr = ParseListenAddress(listen);
  if (!addr.ok()) {
    err << "arca-registry: " << addr.status().message() << "\n";
    return 1;
  }
  options.host = addr->host;
  options.port = addr->port;

  // SIGINT and SIGTERM are taken by one thread with sigwait(), never by a
  // handler: they must be blocked before any other thread starts, so that
  // every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Result<std::unique_ptr<Server>> server = Server::Create(data_dir, options);
  if (!server.ok()) {
    err << "arca-registry: " << server.status().message() << "\n";
    return 1;
  }
  std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  out << "arca-registry listening on " << ((*server)->tls() ? "https://" : "http://") << host << ":"
      << (*server)->port() << " (data " << data_dir << ")" << std::endl;

  Server* s = server->get();
  std::thread waiter([s, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    s->Stop();
  });
  std::atomic<bool> stopping{false};
  std::thread task;
  if (background) task = std::thread([&background, s, &stopping] { background(*s, stopping); });
  Status run = s->Run();
  stopping = true;
  if (task.joinable()) task.join();
  // Wake the waiter if Run ended by itself; the signal stays pending for it
  // alone, since every thread blocks it.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (!run.ok()) {
    err << "arca-registry: " << run.message() << "\n";
    return 1;
  }
  err << "arca-registry: stopped\n";
  return 0;
}

int TokenCreateCommand(const std::string& data_dir, const std::string& ns, const std::string& scope,
                       std::ostream& out, std::ostream& err) {
  Result<Scope> s = ParseScope(scope);
  if (!s.ok()) {
    err << "arca-registry: " << s.status().message() << "\n";
    return 1;
  }
  Status dir = MakeDirs(data_dir);
  TokenInfo info;
  Result<std::string> token = dir.ok() ? CreateToken(TokenFilePath(data_dir), ns, *s, &info) : Result<std::string>(dir);
  if (!token.ok()) {
    err << "arca-registry: " << token.status().message() << "\n";
    return 1;
  }
  out << *token << std::endl;
  err << "token " << info.id << " (" << ScopeName(info.scope) << " on " << info.ns
      << "): copy it now, it is not stored and cannot be shown again\n";
  return 0;
}

int TokenListCommand(const std::string& data_dir, std::ostream& out, std::ostream& err) {
  Result<std::vector<TokenInfo>> tokens = ReadTokenFile(TokenFilePath(data_dir));
  if (!tokens.ok()) {
    err << "arca-registry: " << tokens.status().message() << "\n";
    return 1;
  }
  out << std::left << std::setw(10) << "ID" << std::setw(24) << "NAMESPACE" << std::setw(7) << "SCOPE"
      << "CREATED\n";
  for (const TokenInfo& t : *tokens) {
    out << std::setw(10) << t.id << std::setw(24) << t.ns << std::setw(7) << ScopeName(t.scope) << t.created
        << "\n";
  }
  return 0;
}

int LogKeyCommand(const std::string& data_dir, const std::string& origin, std::ostream& out, std::ostream& err) {
  Result<std::string> existing = ReadFile(data_dir + "/keys/log.verifier", 4096);
  if (existing.ok()) {
    out << *existing;
    return 0;
  }
  Result<std::unique_ptr<TransparencyLog>> log = TransparencyLog::Open(data_dir, origin);
  if (!log.ok()) {
    err << "arca-registry: " << log.status().message() << "\n";
    return 1;
  }
  out << (*log)->verifier_key() << "\n";
  return 0;
}

}  // namespace arca::registry
