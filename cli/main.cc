// shoalctl: the operator's CLI. Parses the command line and runs one command
// against the scheduler's gRPC API (see ctl_args.cc for the usage text).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/ctl_args.h"
#include "cli/ctl_commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = shoal::ctl::ParseCtlArgs(args);
  if (!parsed.ok()) {
    std::fprintf(stderr, "shoalctl: %s\n", std::string(parsed.status().message()).c_str());
    return shoal::ctl::kUsage;
  }
  if (parsed->help) {
    std::fputs(shoal::ctl::UsageText().c_str(), stdout);
    return shoal::ctl::kOk;
  }
  return shoal::ctl::RunCommand(*parsed);
}
