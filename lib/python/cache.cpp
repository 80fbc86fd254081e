#include "python/cache.h"

#include "core/safe_write.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <algorithm>
#include <sstream>

namespace leakfix {

// Span, Error and Finding as the cache stores them (a finding of a scan carries no fix text).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Span, line, column, end_line, end_column)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Error, file, line, message)

void to_json(nlohmann::json& j, const Finding& f) {
  j = {{"rule", f.rule}, {"kind", static_cast<int>(f.kind)}, {"file", f.file}, {"span", f.span}, {"function", f.function},
       {"variable", f.variable}, {"message", f.message}, {"exit_label", f.exit_label}, {"route_via", f.route_via},
       {"snippet", f.snippet}, {"fixable", f.fixable}};
  if (f.exit) j["exit"] = *f.exit;
  if (f.route) j["route"] = *f.route;
  if (f.exposure) j["exposure"] = *f.exposure;
  if (f.reason) j["reason"] = *f.reason;
}

void from_json(const nlohmann::json& j, Finding& f) {
  j.at("rule").get_to(f.rule);
  f.kind = static_cast<Kind>(j.at("kind").get<int>());
  j.at("file").get_to(f.file);
  j.at("span").get_to(f.span);
  j.at("function").get_to(f.function);
  j.at("variable").get_to(f.variable);
  j.at("message").get_to(f.message);
  j.at("exit_label").get_to(f.exit_label);
  j.at("route_via").get_to(f.route_via);
  j.at("snippet").get_to(f.snippet);
  j.at("fixable").get_to(f.fixable);
  if (j.contains("exit")) f.exit = j["exit"].get<Span>();
  if (j.contains("route")) f.route = j["route"].get<std::string>();
  if (j.contains("exposure")) f.exposure = j["exposure"].get<std::string>();
  if (j.contains("reason")) f.reason = j["reason"].get<std::string>();
}

void to_json(nlohmann::json& j, const Acquirer& a) {
  j = {{"pattern", a.pattern},       {"context_manager", a.context_manager}, {"with_commits", a.with_commits},
       {"receiver", a.receiver_handle}, {"fix", a.fix},                   {"discovered_from", a.discovered_from},
       {"module", a.module},         {"owner_class", a.owner_class},       {"may_return_none", a.may_return_none},
       {"async_with", a.async_with}};
  if (a.with_closes) j["with_closes"] = *a.with_closes;
}

void from_json(const nlohmann::json& j, Acquirer& a) {
  j.at("pattern").get_to(a.pattern);
  j.at("context_manager").get_to(a.context_manager);
  j.at("with_commits").get_to(a.with_commits);
  j.at("receiver").get_to(a.receiver_handle);
  j.at("fix").get_to(a.fix);
  j.at("discovered_from").get_to(a.discovered_from);
  j.at("module").get_to(a.module);
  j.at("owner_class").get_to(a.owner_class);
  j.at("may_return_none").get_to(a.may_return_none);
  j.at("async_with").get_to(a.async_with);
  if (j.contains("with_closes")) a.with_closes = j["with_closes"].get<bool>();
}

namespace python {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DiscoveredAcquirer, function, rule, wraps, with_closes, context_manager, module, owner_class, fix,
                                   may_return_none)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ReleaseSpec, pattern, argument, module, owner_class, same_as_method)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RouteDecl, owner, path, methods, every_request, app_wide)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FunctionFacts, name, routes, decorators, calls)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BlueprintDecl, variable, url_prefix, is_app)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Registration, variable, url_prefix, has_prefix)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FileRoutes, file, blueprints, registrations, functions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FileResult, findings, acquirers, releases, request_scoped, teardown_closes, routes, imports)

std::string encode(const Discoveries& d) {
  const nlohmann::json j = {{"acquirers", d.acquirers},
                            {"releases", d.releases},
                            {"request_scoped", d.request_scoped},
                            {"teardown", d.teardown},
                            {"acquirer_notes", d.acquirer_notes},
                            {"release_notes", d.release_notes}};
  return j.dump();
}

std::optional<Discoveries> decode_discoveries(std::string_view bytes) {
  try {
    const auto j = nlohmann::json::parse(bytes);
    Discoveries d;
    j.at("acquirers").get_to(d.acquirers);
    j.at("releases").get_to(d.releases);
    j.at("request_scoped").get_to(d.request_scoped);
    j.at("teardown").get_to(d.teardown);
    j.at("acquirer_notes").get_to(d.acquirer_notes);
    j.at("release_notes").get_to(d.release_notes);
    return d;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

namespace {

namespace fs = std::filesystem;
constexpr std::uint32_t kFormat = 8;  // of an entry's bytes; bump when a stored type changes

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (const unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex128(std::string_view s) {
  return fmt::format("{:016x}{:016x}", fnv1a(s), static_cast<std::uint64_t>(std::hash<std::string_view>{}(s)));
}


// Writes `bytes` to a temporary file beside `p` and renames it into place. Quietly does nothing
// when it cannot: a cache that cannot be written is a slower next run, not an error.
void write_atomically(const fs::path& p, std::string_view bytes) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  const fs::path tmp = p.parent_path() / fmt::format(".tmp-{:x}-{:x}", static_cast<unsigned>(getpid()), random());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  const bool ok = ::close(fd) == 0 && done == bytes.size();
  if (!ok || ::rename(tmp.c_str(), p.c_str()) != 0) ::unlink(tmp.c_str());
}

// The index's fields, in the machine's byte order (the cache is not shared between machines).
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void u64(std::uint64_t v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  void words(const std::vector<uint64_t>& w) {
    u64(w.size());
    out_.append(reinterpret_cast<const char*>(w.data()), w.size() * sizeof(uint64_t));
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u64(std::uint64_t& v) {
    if (in_.size() - at_ < sizeof v) return false;
    std::memcpy(&v, in_.data() + at_, sizeof v);
    at_ += sizeof v;
    return true;
  }
  bool str(std::string& s) {
    std::uint64_t n = 0;
    if (!u64(n) || n > in_.size() - at_) return false;
    s.assign(in_.data() + at_, n);
    at_ += n;
    return true;
  }
  bool words(std::vector<uint64_t>& w) {
    std::uint64_t n = 0;
    if (!u64(n) || n > (in_.size() - at_) / sizeof(uint64_t)) return false;
    w.resize(n);
    if (n) std::memcpy(w.data(), in_.data() + at_, n * sizeof(uint64_t));
    at_ += n * sizeof(uint64_t);
    return true;
  }

 private:
  std::string_view in_;
  std::size_t at_ = 0;
};

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace

std::string cache_config(const std::string& version, const std::vector<Rule>& rules, bool whole_files) {
  std::string s = fmt::format("leakfix {} format {} whole {}\n", version, kFormat, whole_files);
  for (const auto& r : rules) {
    s += fmt::format("rule {}|{}|{}|{}|{}|{}\n", r.id, r.language, r.resource, r.with_closes, fmt::join(r.release_methods, ","),
                     fmt::join(r.returns_data, ","));
    for (const auto& a : r.acquirers)
      s += fmt::format(" a {}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}\n", a.pattern, a.with_closes ? (*a.with_closes ? 1 : 0) : 2,
                       a.context_manager, a.with_commits, a.receiver_handle, a.fix, a.discovered_from, a.module, a.owner_class,
                       a.may_return_none, a.async_with);
    for (const auto& f : r.release_functions) s += fmt::format(" r {}|{}|{}\n", f.pattern, f.argument, f.helper);
    s += fmt::format(" e {}|{}|{}|{}\n", fmt::join(r.exposure.admin_decorators, ","), fmt::join(r.exposure.login_decorators, ","),
                     fmt::join(r.exposure.admin_paths, ","), r.guard);
  }
  return hex128(s);
}

std::optional<SummaryCache> SummaryCache::open(const fs::path& dir, const std::string& config, std::string* why) {
  std::error_code ec;
  fs::create_directories(dir / "v1" / config, ec);
  if (ec) {
    if (why) *why = fmt::format("{}: cannot make the cache folder: {}", dir.string(), ec.message());
    return std::nullopt;
  }
  // As ruff's: git ignores it, backup tools that honour CACHEDIR.TAG skip it.
  if (!fs::exists(dir / ".gitignore", ec)) write_atomically(dir / ".gitignore", "# made by leakfix\n*\n");
  if (!fs::exists(dir / "CACHEDIR.TAG", ec))
    write_atomically(dir / "CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n# the leakfix summary cache\n");
  SummaryCache c;
  c.dir_ = dir / "v1" / config;
  // The index, in a plain binary form read without building anything but the records (see
  // save_index for the layout).
  if (const auto bytes = read_all((c.dir_ / "index").string())) {
    Reader in(*bytes);
    std::uint64_t format = 0, count = 0;
    if (in.u64(format) && format == kFormat && in.u64(c.index_written_ns_) && in.u64(count)) {
      for (std::uint64_t n = 0; n < count; ++n) {
        std::string path, display;
        Stat st;
        Record r;
        std::uint64_t digest = 0, analysed = 0, buffer = 0;
        if (!(in.str(path) && in.str(display) && in.u64(st.size) && in.u64(st.mtime_ns) && in.u64(st.inode) && in.str(r.key) &&
              in.u64(digest) && in.words(r.words) && in.str(r.shape) && in.str(r.knowledge) && in.u64(analysed) && in.u64(buffer))) {
          c.index_.clear();  // a torn index: this run reads every file
          break;
        }
        r.digest = static_cast<std::size_t>(digest);
        r.analysed = analysed != 0;
        r.buffer = buffer != 0;
        c.index_[path + "\n" + display] = {st, std::move(r)};
      }
    }
  }
  return c;
}

std::string SummaryCache::key_of(const std::string& display, std::string_view bytes) {
  std::string s = display;
  s += '\0';
  s.append(bytes);
  return hex128(s);
}

std::optional<SummaryCache::Stat> SummaryCache::stat_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return Stat{static_cast<std::uint64_t>(st.st_size),
              static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(st.st_mtim.tv_nsec),
              static_cast<std::uint64_t>(st.st_ino)};
}

const SummaryCache::Record* SummaryCache::from_stat(const InputFile& file) const {
  if (file.bytes) return nullptr;
  const auto it = index_.find(file.path + "\n" + file.display);
  if (it == index_.end()) return nullptr;
  const auto st = stat_of(file.path);
  if (st) {
    std::lock_guard guard(*lock_);
    seen_[file.path] = *st;
  }
  if (!st || !(*st == it->second.first) || it->second.second.buffer) return nullptr;
  // A file changed within a second of the record may have changed after it, unseen by mtime.
  if (st->mtime_ns + 1000000000ull >= index_written_ns_) return nullptr;
  return &it->second.second;
}

const SummaryCache::Record* SummaryCache::previous(const InputFile& file) const {
  // For an editor's buffer: the file on disk, which the buffer changes.
  const auto it = index_.find(file.path + "\n" + file.display);
  return it == index_.end() ? nullptr : &it->second.second;
}

bool SummaryCache::lost_files(const std::vector<InputFile>& files) const {
  std::set<std::string> now;
  for (const auto& f : files) now.insert(f.path + "\n" + f.display);
  return std::any_of(index_.begin(), index_.end(), [&](const auto& e) { return !now.contains(e.first); });
}

std::optional<std::string> SummaryCache::get(const std::string& name) const { return read_all((dir_ / name).string()); }

void SummaryCache::put(const std::string& name, std::string_view bytes) const { write_atomically(dir_ / name, bytes); }

fs::path SummaryCache::entry_path(const std::string& key) const { return dir_ / key.substr(0, 2) / key.substr(2); }

std::optional<CachedFile> SummaryCache::load(const std::string& key) const {
  const auto bytes = read_all(entry_path(key).string());
  if (!bytes || bytes->size() < 8) return std::nullopt;
  try {
    const auto j = nlohmann::json::from_msgpack(*bytes);
    if (j.at("format").get<std::uint32_t>() != kFormat || j.at("key").get<std::string>() != key) return std::nullopt;
    CachedFile c;
    c.digest = j.at("digest").get<std::size_t>();
    const auto& words = j.at("words").get_binary();
    if (words.size() % sizeof(uint64_t) != 0) return std::nullopt;
    c.words.resize(words.size() / sizeof(uint64_t));
    if (!words.empty()) std::memcpy(c.words.data(), words.data(), words.size());
    if (j.contains("result")) c.result = j["result"].get<FileResult>();
    if (j.contains("error")) c.error = j["error"].get<Error>();
    c.shape = j.at("shape").get<std::string>();
    c.knowledge = j.at("knowledge").get<std::string>();
    return c;
  } catch (const std::exception&) {
    return std::nullopt;  // a torn or foreign entry: analysed again, and written again
  }
}

void SummaryCache::store(const std::string& key, const CachedFile& c) const {
  nlohmann::json j = {{"format", kFormat},
                      {"key", key},
                      {"digest", c.digest},
                      {"words", nlohmann::json::binary(std::vector<std::uint8_t>(
                                    reinterpret_cast<const std::uint8_t*>(c.words.data()),
                                    reinterpret_cast<const std::uint8_t*>(c.words.data() + c.words.size())))},
                      {"shape", c.shape},
                      {"knowledge", c.knowledge}};
  if (c.result) j["result"] = *c.result;
  if (c.error) j["error"] = *c.error;
  const auto bytes = nlohmann::json::to_msgpack(j);
  write_atomically(entry_path(key), std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void SummaryCache::record(const InputFile& file, Record r) {
  if (file.bytes) {
    // An editor's buffer: what was analysed is recorded, but never taken for the file on disk.
    r.buffer = true;
    std::lock_guard guard(*lock_);
    recorded_[file.path + "\n" + file.display] = {Stat{}, std::move(r)};
    return;
  }
  std::optional<Stat> st;
  {
    std::lock_guard guard(*lock_);
    if (const auto it = seen_.find(file.path); it != seen_.end()) st = it->second;
  }
  // A file read this run (not matched by its stat): its stat as it is now, after the read.
  if (!st) st = stat_of(file.path);
  if (!st) return;
  std::lock_guard guard(*lock_);
  recorded_[file.path + "\n" + file.display] = {*st, std::move(r)};
}

void SummaryCache::save_index() {
  // format, written (ns), count; then per file: path, display, size, mtime (ns), inode, key,
  // digest, word filter, shape, knowledge, analysed, buffer. Numbers are 8 bytes, strings and the filter
  // are a length (8 bytes) and their bytes.
  std::string out;
  Writer w(out);
  std::lock_guard guard(*lock_);
  w.u64(kFormat);
  w.u64(now_ns());
  w.u64(recorded_.size());
  for (const auto& [name, entry] : recorded_) {
    const auto nl = name.find('\n');
    const auto& [st, r] = entry;
    w.str(name.substr(0, nl));
    w.str(name.substr(nl + 1));
    w.u64(st.size);
    w.u64(st.mtime_ns);
    w.u64(st.inode);
    w.str(r.key);
    w.u64(r.digest);
    w.words(r.words);
    w.str(r.shape);
    w.str(r.knowledge);
    w.u64(r.analysed ? 1 : 0);
    w.u64(r.buffer ? 1 : 0);
  }
  write_atomically(dir_ / "index", out);
}

}  // namespace python
}  // namespace leakfix
