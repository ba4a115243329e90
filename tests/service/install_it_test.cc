// `make install` / `make uninstall` (issue 5, SPEC §8): with DESTDIR and
// PREFIX the tree has the binary, the unit starting that binary, the sample
// configuration (the live one only if absent) and the docs; a second install
// keeps an edited configuration; uninstall removes everything but it.
//
// Runs the top-level Makefile of the tree that built $WXPAY_TEST_BIN, with
// BUILD pointing at that binary's directory and `-o` so nothing is rebuilt.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "daemon/it_support.h"
#include "wechatpay/test_data.h"

namespace wxpay::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Every file and symlink under `root`, as paths relative to it.
std::set<std::string> FilesUnder(const std::string& root) {
  std::set<std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_directory()) files.insert(fs::relative(it->path(), root).string());
  }
  return files;
}

unsigned Mode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

// The lines of a unit file that start with `key=`.
std::vector<std::string> UnitLines(const std::string& text, const std::string& key) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const std::string line = text.substr(start, end - start);
    if (line.rfind(key + "=", 0) == 0) out.push_back(line);
    start = end + 1;
  }
  return out;
}

class InstallIt : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = RequireItEnv("WXPAY_TEST_BIN");
    ASSERT_FALSE(bin_.empty());
    const fs::path bin = fs::canonical(bin_);
    build_ = bin.parent_path().string();
    root_ = bin.parent_path().parent_path().string();
    ASSERT_TRUE(fs::exists(root_ + "/Makefile") && fs::exists(root_ + "/systemd/wxpay-reconciler.service"))
        << "WXPAY_TEST_BIN (" << bin_ << ") is not ROOT/<build dir>/wxpay-reconciler of a source tree";
  }

  // `make TARGET DESTDIR=... [PREFIX=...]` in the source tree; its exit code.
  int Make(const std::string& target, const std::string& prefix) {
    std::vector<std::string> argv = {"/usr/bin/env", "-u", "MAKEFLAGS", "-u", "MAKELEVEL", "-u", "MFLAGS",
                                     "make", "--no-print-directory", "-C", root_, "-o", build_ + "/wxpay-reconciler",
                                     "BUILD=" + build_, "DESTDIR=" + dest_, target};
    if (!prefix.empty()) argv.push_back("PREFIX=" + prefix);
    last_ = RunCommand(argv, tmp_.path() + "/make.out", 120s);
    return last_.exit_code;
  }

  std::string Dest(const std::string& path) const { return dest_ + path; }

  TempDir tmp_;
  std::string bin_, build_, root_;
  std::string dest_ = tmp_.path() + "/dest";
  CommandResult last_;
};

TEST_F(InstallIt, DestdirAndPrefixUsrGiveTheDebianLayout) {
  ASSERT_EQ(Make("install", "/usr"), 0) << last_.output;

  const std::set<std::string> expected = {
      "usr/bin/wxpay-reconciler",
      "usr/lib/systemd/system/wxpay-reconciler.service",
      "etc/wxpay-reconciler/config.yaml",
      "etc/wxpay-reconciler/config.yaml.example",
      "usr/share/doc/wxpay-reconciler/README.md",
      "usr/share/doc/wxpay-reconciler/examples/minimal.yaml",
      "usr/share/doc/wxpay-reconciler/examples/sqlite-shop.conf",
      "usr/share/doc/wxpay-reconciler/examples/metrics.conf",
  };
  EXPECT_EQ(FilesUnder(dest_), expected) << last_.output;
  EXPECT_EQ(Mode(Dest("/usr/bin/wxpay-reconciler")), 0755u);
  EXPECT_EQ(ReadAll(Dest("/usr/bin/wxpay-reconciler")), ReadAll(bin_)) << "not the built binary";
  EXPECT_EQ(Mode(Dest("/usr/lib/systemd/system/wxpay-reconciler.service")), 0644u);
  EXPECT_EQ(Mode(Dest("/etc/wxpay-reconciler/config.yaml")), 0644u) << "the service's dynamic user must read it";
  EXPECT_EQ(ReadAll(Dest("/etc/wxpay-reconciler/config.yaml")), ReadAll(root_ + "/etc/wxpay-reconciler.yaml"));
  EXPECT_EQ(ReadAll(Dest("/etc/wxpay-reconciler/config.yaml.example")), ReadAll(root_ + "/etc/wxpay-reconciler.yaml"));

  // The unit starts the installed binary; nothing else of it changed.
  const std::string unit = ReadAll(Dest("/usr/lib/systemd/system/wxpay-reconciler.service"));
  const std::string source = ReadAll(root_ + "/systemd/wxpay-reconciler.service");
  EXPECT_EQ(UnitLines(unit, "ExecStart"), std::vector<std::string>{"ExecStart=/usr/bin/wxpay-reconciler run"});
  const std::vector<std::string> source_exec = UnitLines(source, "ExecStart");
  ASSERT_EQ(source_exec.size(), 1u);
  std::string rewritten = source;
  rewritten.replace(rewritten.find(source_exec[0]), source_exec[0].size(), "ExecStart=/usr/bin/wxpay-reconciler run");
  EXPECT_EQ(unit, rewritten);

  // A second install keeps the operator's configuration.
  const std::string edited = ReadAll(Dest("/etc/wxpay-reconciler/config.yaml")) + "# edited by the operator\n";
  std::ofstream(Dest("/etc/wxpay-reconciler/config.yaml"), std::ios::trunc) << edited;
  ASSERT_EQ(Make("install", "/usr"), 0) << last_.output;
  EXPECT_EQ(ReadAll(Dest("/etc/wxpay-reconciler/config.yaml")), edited) << "install replaced an edited config";
  EXPECT_EQ(FilesUnder(dest_), expected);

  // Uninstall removes everything but the live configuration.
  ASSERT_EQ(Make("uninstall", "/usr"), 0) << last_.output;
  EXPECT_EQ(FilesUnder(dest_), std::set<std::string>{"etc/wxpay-reconciler/config.yaml"}) << last_.output;
  EXPECT_EQ(ReadAll(Dest("/etc/wxpay-reconciler/config.yaml")), edited);
}

TEST_F(InstallIt, DefaultPrefixIsUsrLocalAndTheUnitFollowsIt) {
  ASSERT_EQ(Make("install", ""), 0) << last_.output;
  EXPECT_TRUE(fs::exists(Dest("/usr/local/bin/wxpay-reconciler"))) << last_.output;
  const std::string unit = ReadAll(Dest("/usr/local/lib/systemd/system/wxpay-reconciler.service"));
  EXPECT_EQ(UnitLines(unit, "ExecStart"), std::vector<std::string>{"ExecStart=/usr/local/bin/wxpay-reconciler run"});
  EXPECT_TRUE(fs::exists(Dest("/usr/local/share/doc/wxpay-reconciler/README.md")));
  EXPECT_TRUE(fs::exists(Dest("/etc/wxpay-reconciler/config.yaml")));
  ASSERT_EQ(Make("uninstall", ""), 0) << last_.output;
  EXPECT_EQ(FilesUnder(dest_), std::set<std::string>{"etc/wxpay-reconciler/config.yaml"});
}

}  // namespace
}  // namespace wxpay::testing
