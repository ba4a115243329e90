// Runs the real binary ($WXPAY_TEST_BIN) the way an operator or a script
// does: a child process with its own stdout and stderr, and its exit code.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace wxpay::clitest {

struct CliResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;     // stdout
  std::string err;     // stderr
  bool timed_out = false;

  // For assertion messages: the exit code and both streams.
  std::string Describe() const;
  // stdout split into lines (without their newlines).
  std::vector<std::string> OutLines() const;
};

// $WXPAY_TEST_BIN; fails the test (saying how to run it) when unset.
std::string CliBinary();

struct CliEnv {
  std::vector<std::string> set;    // "NAME=value", replacing the inherited value
  std::vector<std::string> unset;  // names removed from the inherited environment
};

// Runs CliBinary() with `args` (argv[1..]) and waits for it, killing it after
// `timeout`. The child inherits this process's environment except
// JOURNAL_STREAM, NOTIFY_SOCKET and WXPAY_RECONCILER_CONFIG (so the log
// format and the config path do not depend on how the tests were started),
// then `env` applies.
CliResult RunCli(const std::vector<std::string>& args, const CliEnv& env = {},
                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Runs several commands at once (each as RunCli) and returns their results in
// order: independent cases of one test need not wait for each other.
std::vector<CliResult> RunCliAll(const std::vector<std::vector<std::string>>& commands, const CliEnv& env = {},
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace wxpay::clitest
