#include "client/passphrase.h"

#include <fcntl.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace arca::client {

namespace {

constexpr size_t kMaxPassphrase = 1024;

std::optional<std::string> FromEnv() {
  const char* v = std::getenv("ARCA_KEY_PASSPHRASE");
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Result<std::string> FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read passphrase file " + path);
  std::string line;
  std::getline(in, line);
  if (line.size() > kMaxPassphrase) return InvalidArgumentError("passphrase in " + path + " is over 1024 bytes");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Reads one line from the terminal with echo off. nullopt: no terminal.
std::optional<std::string> Prompt(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  termios old{};
  bool have_termios = ::tcgetattr(fd, &old) == 0;
  if (!have_termios) {
    ::close(fd);
    return std::nullopt;
  }
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(fd, TCSAFLUSH, &quiet);
  (void)!::write(fd, prompt.data(), prompt.size());
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n' && line.size() <= kMaxPassphrase) line.push_back(c);
  ::tcsetattr(fd, TCSAFLUSH, &old);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  return line;
}

}  // namespace

void WipeString(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

Result<std::string> PassphraseForKey(const PassphraseSource& src, const std::string& name) {
  if (!src.file.empty()) return FromFile(src.file);
  if (std::optional<std::string> env = FromEnv()) return *env;
  if (std::optional<std::string> typed = Prompt("Passphrase for key " + name + ": ")) return *typed;
  return FailedPreconditionError("key " + name +
                                 " is encrypted and there is no terminal to ask for its passphrase; "
                                 "set ARCA_KEY_PASSPHRASE or pass --passphrase-file FILE");
}

Result<std::optional<std::string>> PassphraseForNewKey(const PassphraseSource& src, const std::string& name) {
  if (!src.file.empty()) {
    ARCA_ASSIGN_OR_RETURN(std::string p, FromFile(src.file));
    if (p.empty()) return std::optional<std::string>();
    return std::optional<std::string>(std::move(p));
  }
  if (std::optional<std::string> env = FromEnv()) {
    if (env->empty()) return std::optional<std::string>();
    return env;
  }
  std::optional<std::string> first =
      Prompt("Passphrase to encrypt key " + name + " (empty: store it unencrypted): ");
  if (!first) return std::optional<std::string>();
  if (first->empty()) return std::optional<std::string>();
  std::optional<std::string> second = Prompt("Same passphrase again: ");
  if (!second || *second != *first) {
    WipeString(*first);
    if (second) WipeString(*second);
    return InvalidArgumentError("the two passphrases differ; nothing was written");
  }
  WipeString(*second);
  return first;
}

}  // namespace arca::client
