#include "config/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "ops/unique_fd.h"

namespace wxpay {
namespace {

constexpr std::size_t kMaxSecretSize = 64 * 1024;

std::string CannotRead(const std::string& path, int error) {
  return "cannot read " + path + ": " + std::strerror(error);
}

// Ok when the open file is a regular one (not a FIFO or device that could
// block or never end).
Status CheckRegular(const UniqueFd& fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Fail(CannotRead(path, errno));
  if (!S_ISREG(st.st_mode)) return Fail("cannot read " + path + ": not a regular file");
  return Status::Ok();
}

// Reads the open file to its end; `too_large` as the error once it has given
// more than `max_size` bytes.
Result<std::string> ReadAll(const UniqueFd& fd, const std::string& path, std::size_t max_size,
                            const std::string& too_large) {
  std::string content;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(CannotRead(path, errno));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
    if (content.size() > max_size) return Fail(too_large);
  }
  return content;
}

}  // namespace

Status CheckReadableFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return Fail(CannotRead(path, errno));
  return CheckRegular(fd, path);
}

Result<std::string> ReadSecretFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return Fail(CannotRead(path, errno));
  if (Status regular = CheckRegular(fd, path); !regular) return Fail(regular.message());
  Result<std::string> secret =
      ReadAll(fd, path, kMaxSecretSize, path + " is larger than 64 KiB; it must hold only the password");
  if (!secret) return secret.error();
  std::string& content = *secret;
  if (content.size() >= 2 && content.compare(content.size() - 2, 2, "\r\n") == 0) {
    content.resize(content.size() - 2);
  } else if (!content.empty() && content.back() == '\n') {
    content.pop_back();
  }
  if (content.empty()) return Fail(path + " is empty; it must hold the password");
  if (content.find_first_of(std::string("\n\r\0", 3)) != std::string::npos) {
    return Fail(path + " holds more than one line; it must hold only the password");
  }
  return secret;
}

Result<std::string> ReadTextFile(const std::string& path, std::size_t max_size) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return Fail(CannotRead(path, errno));
  return ReadAll(fd, path, max_size, path + " is larger than " + std::to_string(max_size / 1024) + " KiB");
}

std::optional<std::string> ReadableByOthers(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  if ((st.st_mode & (S_IRGRP | S_IROTH)) == 0) return std::nullopt;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return std::string(mode);
}

}  // namespace wxpay
