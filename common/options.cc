#include "common/options.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace shoal {

absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text) {
  std::string t(absl::StripAsciiWhitespace(text));
  size_t i = 0;
  while (i < t.size() && (absl::ascii_isdigit(t[i]) || t[i] == '.')) ++i;
  double value = 0;
  if (i == 0 || !absl::SimpleAtod(t.substr(0, i), &value)) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a size (e.g. 64MiB, 1GiB, 4096)"));
  }
  std::string unit = absl::AsciiStrToLower(t.substr(i));
  double mult = 1;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb") mult = 1e3;
  else if (unit == "kib") mult = 1024.0;
  else if (unit == "m" || unit == "mb") mult = 1e6;
  else if (unit == "mib") mult = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb") mult = 1e9;
  else if (unit == "gib") mult = 1024.0 * 1024 * 1024;
  else if (unit == "tib") mult = 1024.0 * 1024 * 1024 * 1024;
  else return absl::InvalidArgumentError(absl::StrCat("'", text, "' has an unknown size unit '", unit, "'"));
  return static_cast<uint64_t>(value * mult);
}

std::string FormatByteSize(uint64_t b) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  uint64_t v = b;
  while (u < 4 && v >= 1024 && v % 1024 == 0) {
    v /= 1024;
    ++u;
  }
  return absl::StrCat(v, kUnits[u]);
}

OptionSet::OptionSet(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void OptionSet::AddString(std::string name, std::string* t, std::string help) {
  options_.push_back({std::move(name), std::move(help), "string", false,
                      [t](const std::string& v) {
                        *t = v;
                        return absl::OkStatus();
                      },
                      nullptr, [t] { return *t; }});
}

void OptionSet::AddStringList(std::string name, std::vector<std::string>* t, std::string help) {
  options_.push_back({std::move(name), std::move(help), "string, repeatable", true,
                      [t](const std::string& v) {
                        t->push_back(v);
                        return absl::OkStatus();
                      },
                      [t] { t->clear(); }, [t] { return absl::StrJoin(*t, ","); }});
}

void OptionSet::AddBytes(std::string name, uint64_t* t, std::string help) {
  options_.push_back({std::move(name), std::move(help), "size", false,
                      [t](const std::string& v) -> absl::Status {
                        auto r = ParseByteSize(v);
                        if (!r.ok()) return r.status();
                        *t = *r;
                        return absl::OkStatus();
                      },
                      nullptr, [t] { return FormatByteSize(*t); }});
}

void OptionSet::AddUint(std::string name, uint32_t* t, std::string help) {
  options_.push_back({std::move(name), std::move(help), "integer", false,
                      [t](const std::string& v) -> absl::Status {
                        uint32_t x;
                        if (!absl::SimpleAtoi(v, &x)) {
                          return absl::InvalidArgumentError(absl::StrCat("'", v, "' is not a non-negative integer"));
                        }
                        *t = x;
                        return absl::OkStatus();
                      },
                      nullptr, [t] { return absl::StrCat(*t); }});
}

void OptionSet::AddDuration(std::string name, absl::Duration* t, std::string help) {
  options_.push_back({std::move(name), std::move(help), "duration", false,
                      [t](const std::string& v) -> absl::Status {
                        absl::Duration d;
                        if (!absl::ParseDuration(v, &d) || d < absl::ZeroDuration()) {
                          return absl::InvalidArgumentError(absl::StrCat("'", v, "' is not a duration (e.g. 30s, 2m, 500ms)"));
                        }
                        *t = d;
                        return absl::OkStatus();
                      },
                      nullptr, [t] { return absl::FormatDuration(*t); }});
}

void OptionSet::AddBool(std::string name, bool* t, std::string help) {
  options_.push_back({std::move(name), std::move(help), "bool", false,
                      [t](const std::string& v) -> absl::Status {
                        std::string l = absl::AsciiStrToLower(v);
                        if (l == "true" || l == "1" || l == "yes") *t = true;
                        else if (l == "false" || l == "0" || l == "no") *t = false;
                        else return absl::InvalidArgumentError(absl::StrCat("'", v, "' is not true/false"));
                        return absl::OkStatus();
                      },
                      nullptr, [t] { return *t ? std::string("true") : std::string("false"); }});
}

OptionSet::Option* OptionSet::Find(absl::string_view name) {
  for (auto& o : options_) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

absl::Status OptionSet::LoadYaml(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config ", path, ": ", e.what()));
  }
  if (root.IsNull()) return absl::OkStatus();
  if (!root.IsMap()) return absl::InvalidArgumentError(absl::StrCat("config ", path, ": top level must be a map of option: value"));
  for (const auto& kv : root) {
    std::string key = kv.first.as<std::string>();
    Option* o = Find(key);
    if (o == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("config ", path, ": unknown key '", key, "' (see ", program_, " --help)"));
    }
    auto apply = [&](const YAML::Node& n) -> absl::Status {
      if (!n.IsScalar()) return absl::InvalidArgumentError(absl::StrCat("config ", path, ": key '", key, "' needs a scalar value"));
      absl::Status s = o->set(n.as<std::string>());
      if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("config ", path, ": key '", key, "': ", s.message()));
      return absl::OkStatus();
    };
    if (kv.second.IsSequence() && o->repeatable) {
      o->clear();
      for (const auto& item : kv.second) {
        if (auto s = apply(item); !s.ok()) return s;
      }
    } else {
      if (o->repeatable) o->clear();
      if (auto s = apply(kv.second); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<OptionSet::Outcome> OptionSet::Parse(int argc, char** argv) {
  // Pass 1: find --config, --help, --print-config.
  bool help = false, print = false;
  std::vector<std::pair<std::string, std::string>> flags;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      help = true;
      continue;
    }
    if (a == "--print-config") {
      print = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", a, "' (see ", program_, " --help)"));
    }
    std::string name = a.substr(2), value;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      Option* o = Find(name);
      if (o != nullptr && o->kind == "bool" && (i + 1 >= argc || std::string(argv[i + 1]).rfind("--", 0) == 0)) {
        value = "true";
      } else if (name != "config" && o == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see ", program_, " --help)"));
      } else {
        if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
        value = argv[++i];
      }
    }
    if (name == "config") {
      config_path_ = value;
      continue;
    }
    flags.emplace_back(name, value);
  }
  if (help) {
    std::fputs(HelpText().c_str(), stdout);
    return Outcome::kExitOk;
  }
  if (!config_path_.empty()) {
    if (auto s = LoadYaml(config_path_); !s.ok()) return s;
  }
  std::set<std::string> cleared;
  for (auto& [name, value] : flags) {
    Option* o = Find(name);
    if (o == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see ", program_, " --help)"));
    if (o->repeatable && cleared.insert(name).second) o->clear();
    if (auto s = o->set(value); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, ": ", s.message()));
    }
  }
  if (print) {
    std::fputs(ConfigYaml().c_str(), stdout);
    return Outcome::kExitOk;
  }
  return Outcome::kRun;
}

std::string OptionSet::HelpText() const {
  std::string out = absl::StrCat(program_, " - ", summary_, "\n\nUsage: ", program_,
                                 " [--config FILE] [--flag value ...]\n\nEvery flag is also a key in the "
                                 "YAML --config file; flags override the file.\n\n");
  absl::StrAppend(&out, absl::StrFormat("  %-36s %s\n", "--config FILE", "YAML file with any of the keys below"));
  absl::StrAppend(&out, absl::StrFormat("  %-36s %s\n", "--print-config", "print the effective configuration as YAML and exit"));
  absl::StrAppend(&out, absl::StrFormat("  %-36s %s\n", "--help", "this text"));
  for (const auto& o : options_) {
    std::string cur = o.show();
    absl::StrAppend(&out, absl::StrFormat("  %-36s %s [%s%s]\n", absl::StrCat("--", o.name, " ", absl::AsciiStrToUpper(o.kind.substr(0, o.kind.find(',')))),
                                          o.help, o.repeatable ? "repeatable; " : "",
                                          absl::StrCat("default: ", cur.empty() ? "\"\"" : cur)));
  }
  return out;
}

std::string OptionSet::ConfigYaml() const {
  std::string out;
  for (const auto& o : options_) {
    if (o.repeatable) {
      std::string v = o.show();
      absl::StrAppend(&out, o.name, ": [", v.empty() ? "" : absl::StrCat("\"", absl::StrReplaceAll(v, {{",", "\", \""}}), "\""), "]\n");
    } else {
      absl::StrAppend(&out, o.name, ": \"", o.show(), "\"\n");
    }
  }
  return out;
}

}  // namespace shoal
