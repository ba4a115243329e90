#include "ops/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "ops/metrics_textfile.h"
#include "ops/temp_dir.h"

namespace wxpay {
namespace {

using testing::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// The unit runs with UMask=0077; the file must still be world-readable.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t m) : old_(::umask(m)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST(ReplaceFileAtomically, WritesTheContentWithMode0644DespiteTheUmask) {
  ScopedUmask umask(0077);
  TempDir dir;
  const std::string path = dir.File("wxpay_reconciler.prom");
  ASSERT_TRUE(ReplaceFileAtomically(path, "a 1\n").ok());
  EXPECT_EQ(ReadFile(path), "a 1\n");
  EXPECT_EQ(ModeOf(path), 0644u);
  EXPECT_EQ(dir.List(), (std::vector<std::string>{"wxpay_reconciler.prom"}));
}

TEST(ReplaceFileAtomically, ReplacesAnExistingFileAndItsMode) {
  TempDir dir;
  const std::string path = dir.File("m.prom");
  {
    std::ofstream(path) << "old content that is longer than the new one\n";
  }
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ASSERT_TRUE(ReplaceFileAtomically(path, "new\n").ok());
  EXPECT_EQ(ReadFile(path), "new\n");
  EXPECT_EQ(ModeOf(path), 0644u);
  EXPECT_EQ(dir.List(), (std::vector<std::string>{"m.prom"}));
}

TEST(ReplaceFileAtomically, MissingDirectoryIsAnErrorNamingIt) {
  TempDir dir;
  const Status s = ReplaceFileAtomically(dir.File("nope/m.prom"), "x\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "cannot create a temporary file in " + dir.File("nope") + ": No such file or directory");
  EXPECT_TRUE(dir.List().empty());
}

TEST(ReplaceFileAtomically, AFailedRenameLeavesNoTemporaryFileBehind) {
  TempDir dir;
  const std::string path = dir.File("m.prom");
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);  // rename(file, directory) fails
  ASSERT_EQ(::mkdir((path + "/keep").c_str(), 0755), 0);
  const Status s = ReplaceFileAtomically(path, "x\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("cannot rename a temporary file onto " + path + ": ", 0), 0u) << s.message();
  EXPECT_EQ(dir.List(), (std::vector<std::string>{"m.prom"}));
}

TEST(ReplaceFileAtomically, PathEndingInSlashIsRefused) {
  TempDir dir;
  const Status s = ReplaceFileAtomically(dir.path() + "/", "x\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "cannot write " + dir.path() + "/: the path names a directory, not a file");
}

TEST(ReplaceFileAtomically, AReaderNeverSeesAPartialFile) {
  TempDir dir;
  const std::string path = dir.File("m.prom");
  // Large enough that a non-atomic write would be observed half-done.
  const std::string a = std::string(256 * 1024, 'a') + "\nend a\n";
  const std::string b = std::string(300 * 1024, 'b') + "\nend b\n";
  ASSERT_TRUE(ReplaceFileAtomically(path, a).ok());

  std::atomic<bool> done{false};
  std::atomic<int> writes_failed{0};
  std::thread writer([&] {
    for (int i = 0; i < 60; ++i) {
      if (!ReplaceFileAtomically(path, i % 2 == 0 ? b : a).ok()) ++writes_failed;
    }
    done = true;
  });
  int reads = 0;
  int torn = 0;
  while (!done.load()) {
    const std::string seen = ReadFile(path);
    if (seen != a && seen != b) ++torn;
    ++reads;
  }
  writer.join();
  EXPECT_EQ(writes_failed.load(), 0);
  EXPECT_EQ(torn, 0) << "of " << reads << " reads";
  EXPECT_GT(reads, 0);
  EXPECT_EQ(dir.List(), (std::vector<std::string>{"m.prom"}));
}

TEST(WriteMetricsTextfile, WritesTheRenderedRegistry) {
  TempDir dir;
  Metrics m;
  m.CountOrder("paid");
  const std::string path = dir.File("wxpay_reconciler.prom");
  ASSERT_TRUE(WriteMetricsTextfile(path, m).ok());
  EXPECT_EQ(ReadFile(path), m.Render());
  EXPECT_EQ(ModeOf(path), 0644u);
}

TEST(WriteMetricsTextfile, ErrorsSayWhatToCheck) {
  TempDir dir;
  Metrics m;
  const Status s = WriteMetricsTextfile(dir.File("missing/wxpay_reconciler.prom"), m);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "metrics.textfile: cannot create a temporary file in " + dir.File("missing") +
                             ": No such file or directory (the directory must exist and be writable by the service: "
                             "under systemd add it with ReadWritePaths=, see systemd/examples/metrics.conf)");
}

}  // namespace
}  // namespace wxpay
