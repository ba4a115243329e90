#include "ops/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace wxpay {
namespace {

// Owns an open descriptor of a temporary file and unlinks the file unless
// Commit() says it has been renamed into place.
class TempFile {
 public:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Closes the descriptor, reporting close(2) errors (delayed write errors on
  // some file systems surface here). Returns 0 or an errno value.
  int Close() {
    const int fd = std::exchange(fd_, -1);
    return ::close(fd) == 0 ? 0 : errno;
  }
  void Commit() { committed_ = true; }

 private:
  int fd_;
  std::string path_;
  bool committed_ = false;
};

Status OsError(std::string_view what, const std::string& path, int err) {
  return Fail(std::string(what) + " " + path + ": " + std::strerror(err));
}

int WriteAll(int fd, std::string_view data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    off += static_cast<size_t>(w);
  }
  return 0;
}

}  // namespace

Status ReplaceFileAtomically(const std::string& path, std::string_view content, mode_t mode) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty()) return Fail("cannot write " + path + ": the path names a directory, not a file");

  std::string tmpl = (dir == "/" ? "" : dir) + "/." + name + ".tmp.XXXXXX";
  const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return OsError("cannot create a temporary file in", dir, errno);
  TempFile tmp(fd, tmpl);

  if (int err = WriteAll(tmp.fd(), content); err != 0) return OsError("cannot write", tmp.path(), err);
  if (::fsync(tmp.fd()) != 0) return OsError("cannot fsync", tmp.path(), errno);
  if (::fchmod(tmp.fd(), mode) != 0) return OsError("cannot chmod", tmp.path(), errno);
  if (int err = tmp.Close(); err != 0) return OsError("cannot close", tmp.path(), err);
  if (::rename(tmp.path().c_str(), path.c_str()) != 0) return OsError("cannot rename a temporary file onto", path, errno);
  tmp.Commit();
  // The directory is not fsynced: after a crash the next write recreates the
  // file; what matters is that no reader ever sees half of it.
  return Status::Ok();
}

}  // namespace wxpay
