// Table-driven configuration: every option is a YAML key in --config and a
// --flag of the same name; flags override the file; defaults are whatever the
// target held before parsing. --help and --print-config come for free.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shoal {

// "64MiB", "1GiB", "512KiB", "10MB", "4096" -> bytes.
absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text);
std::string FormatByteSize(uint64_t bytes);

class OptionSet {
 public:
  enum class Outcome { kRun, kExitOk };

  OptionSet(std::string program, std::string summary);

  void AddString(std::string name, std::string* target, std::string help);
  void AddStringList(std::string name, std::vector<std::string>* target, std::string help);
  void AddBytes(std::string name, uint64_t* target, std::string help);
  void AddUint(std::string name, uint32_t* target, std::string help);
  void AddDuration(std::string name, absl::Duration* target, std::string help);
  void AddBool(std::string name, bool* target, std::string help);

  // Parses argv (argv[0] skipped). Prints help/config to stdout and returns kExitOk
  // for --help / --print-config. Errors name the option and the source.
  absl::StatusOr<Outcome> Parse(int argc, char** argv);
  std::string HelpText() const;
  std::string ConfigYaml() const;

 private:
  struct Option {
    std::string name;
    std::string help;
    std::string kind;  // shown in --help
    bool repeatable = false;
    std::function<absl::Status(const std::string&)> set;
    std::function<void()> clear;  // repeatable: first flag replaces config-file values
    std::function<std::string()> show;
  };
  Option* Find(absl::string_view name);
  absl::Status LoadYaml(const std::string& path);

  std::string program_;
  std::string summary_;
  std::string config_path_;
  std::vector<Option> options_;
};

}  // namespace shoal
