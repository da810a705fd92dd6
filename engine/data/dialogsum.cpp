// DialogSum loading (CSV, JSON Lines, Python dict literals), selection and length statistics (see dialogsum.h).
#include "engine/data/dialogsum.h"

#include "engine/data/csv.h"
#include "engine/data/jsonl.h"
#include "base/errors.h"
#include "base/file_util.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <unordered_map>

namespace sumlab {

// ---- Names ----

namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

std::string_view file_name_of(std::string_view path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view extension_of(std::string_view path) {
    const std::string_view name = file_name_of(path);
    const size_t dot = name.find_last_of('.');
    return dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
}

bool is_data_extension(std::string_view path) {
    const std::string ext = ascii_lower(extension_of(path));
    return ext == "csv" || ext == "jsonl" || ext == "json" || ext == "txt";
}

}  // namespace

std::string_view split_name(Split split) {
    switch (split) {
        case Split::train: return "train";
        case Split::validation: return "validation";
        case Split::test: return "test";
    }
    return "train";
}

std::optional<Split> parse_split(std::string_view name) {
    const std::string n = ascii_lower(name);
    if (n == "train") return Split::train;
    if (n == "validation" || n == "valid" || n == "val" || n == "dev") return Split::validation;
    if (n == "test") return Split::test;
    return std::nullopt;
}

std::optional<Split> split_from_file_name(std::string_view path) {
    const std::string_view name = file_name_of(path);
    std::optional<Split> found;
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find_first_of("._- ", start);
        if (end == std::string_view::npos) end = name.size();
        if (auto split = parse_split(name.substr(start, end - start))) {
            if (found && *found != *split) return std::nullopt;
            found = split;
        }
        start = end + 1;
    }
    return found;
}

std::string_view format_name(DataFormat format) {
    switch (format) {
        case DataFormat::csv: return "csv";
        case DataFormat::jsonl: return "jsonl";
        case DataFormat::python_literal: return "python-literal";
    }
    return "csv";
}

const std::string& DialogSumExample::topic() const {
    static const std::string none;
    return topics.empty() ? none : topics.front();
}

size_t DialogSumSplit::reference_count() const {
    size_t n = 0;
    for (const auto& example : examples) n += example.references.size();
    return n;
}

const DialogSumSplit* DialogSumDataset::find(Split split) const {
    for (const auto& s : splits) {
        if (s.split == split) return &s;
    }
    return nullptr;
}

const DialogSumSplit& DialogSumDataset::at(Split split) const {
    if (const auto* s = find(split)) return *s;
    std::string present;
    for (const auto& s : splits) present += (present.empty() ? "" : ", ") + std::string(split_name(s.split));
    throw DataError(path, 0, "no " + std::string(split_name(split)) + " split here (found: " +
                                 (present.empty() ? std::string("none") : present) + ")");
}

// ---- Python literals ----

namespace {

class PythonLiteralParser {
public:
    PythonLiteralParser(std::string_view text, const std::string& path, std::int64_t line)
        : s_(text), path_(path), line_(line) {}

    nlohmann::json parse_all() {
        skip_space();
        nlohmann::json value = parse_value(0);
        skip_space();
        if (pos_ < s_.size()) fail("unexpected text after the literal");
        return value;
    }

private:
    static constexpr int max_depth = 64;

    nlohmann::json parse_value(int depth) {
        if (depth > max_depth) fail("nested too deeply");
        if (pos_ >= s_.size()) fail("unexpected end of line, expected a value");
        const char c = s_[pos_];
        if (c == '{') return parse_dict(depth);
        if (c == '[') return parse_list(depth);
        if (c == '\'' || c == '"') return parse_string();
        if ((c == 'u' || c == 'U') && pos_ + 1 < s_.size() && (s_[pos_ + 1] == '\'' || s_[pos_ + 1] == '"')) {
            ++pos_;
            return parse_string();
        }
        if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')) return parse_number();
        if (is_name_char(c)) return parse_name();
        fail(std::string("unexpected character '") + c + "'");
    }

    nlohmann::json parse_dict(int depth) {
        ++pos_;  // {
        nlohmann::json dict = nlohmann::json::object();
        skip_space();
        while (true) {
            if (peek() == '}') {
                ++pos_;
                return dict;
            }
            const size_t key_pos = pos_;
            nlohmann::json key = parse_value(depth + 1);
            if (!key.is_string()) fail_at(key_pos, "dict keys must be strings");
            skip_space();
            expect(':');
            skip_space();
            const std::string& name = key.get_ref<const std::string&>();
            if (dict.contains(name)) fail_at(key_pos, "duplicate key '" + name + "'");
            dict[name] = parse_value(depth + 1);
            skip_space();
            if (peek() == ',') {
                ++pos_;
                skip_space();
                continue;
            }
            if (peek() != '}') fail("expected ',' or '}' in a dict");
        }
    }

    nlohmann::json parse_list(int depth) {
        ++pos_;  // [
        nlohmann::json list = nlohmann::json::array();
        skip_space();
        while (true) {
            if (peek() == ']') {
                ++pos_;
                return list;
            }
            list.push_back(parse_value(depth + 1));
            skip_space();
            if (peek() == ',') {
                ++pos_;
                skip_space();
                continue;
            }
            if (peek() != ']') fail("expected ',' or ']' in a list");
        }
    }

    nlohmann::json parse_string() {
        const size_t start = pos_;
        const char quote = s_[pos_];
        if (pos_ + 2 < s_.size() && s_[pos_ + 1] == quote && s_[pos_ + 2] == quote) {
            fail("triple-quoted strings are not supported");
        }
        ++pos_;
        std::string out;
        while (true) {
            if (pos_ >= s_.size()) fail_at(start, "unterminated string");
            const size_t run_end = s_.find_first_of(quote == '\'' ? "'\\\r\n" : "\"\\\r\n", pos_);
            if (run_end == std::string_view::npos) fail_at(start, "unterminated string");
            out.append(s_.substr(pos_, run_end - pos_));
            pos_ = run_end;
            const char c = s_[pos_];
            if (c == quote) {
                ++pos_;
                return out;
            }
            if (c == '\r' || c == '\n') fail("line break inside a string (write \\n)");
            read_escape(out);
        }
    }

    void read_escape(std::string& out) {
        const size_t start = pos_;
        ++pos_;  // backslash
        if (pos_ >= s_.size()) fail_at(start, "unterminated string");
        const char c = s_[pos_++];
        switch (c) {
            case '\\': out.push_back('\\'); return;
            case '\'': out.push_back('\''); return;
            case '"': out.push_back('"'); return;
            case 'a': out.push_back('\a'); return;
            case 'b': out.push_back('\b'); return;
            case 'f': out.push_back('\f'); return;
            case 'n': out.push_back('\n'); return;
            case 'r': out.push_back('\r'); return;
            case 't': out.push_back('\t'); return;
            case 'v': out.push_back('\v'); return;
            case 'x': append_code_point(out, read_hex(2, start), start); return;
            case 'u': append_unicode_escape(out, read_hex(4, start), start); return;
            case 'U': append_code_point(out, read_hex(8, start), start); return;
            default: break;
        }
        if (c >= '0' && c <= '7') {
            std::uint32_t value = static_cast<std::uint32_t>(c - '0');
            for (int k = 0; k < 2 && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '7'; ++k) {
                value = value * 8 + static_cast<std::uint32_t>(s_[pos_++] - '0');
            }
            append_code_point(out, value, start);
            return;
        }
        if (c == 'N') fail_at(start, "\\N{...} escapes are not supported");
        fail_at(start, std::string("invalid escape \\") + c);
    }

    std::uint32_t read_hex(int digits, size_t escape_pos) {
        std::uint32_t value = 0;
        for (int k = 0; k < digits; ++k) {
            if (pos_ >= s_.size()) fail_at(escape_pos, "truncated escape");
            const char c = s_[pos_];
            int digit;
            if (c >= '0' && c <= '9') digit = c - '0';
            else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
            else fail_at(escape_pos, "truncated escape: expected " + std::to_string(digits) + " hex digits");
            value = value * 16 + static_cast<std::uint32_t>(digit);
            ++pos_;
        }
        return value;
    }

    void append_unicode_escape(std::string& out, std::uint32_t unit, size_t escape_pos) {
        if (unit >= 0xD800 && unit <= 0xDBFF && pos_ + 6 <= s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == 'u') {
            const size_t saved = pos_;
            pos_ += 2;
            const std::uint32_t low = read_hex(4, saved);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                append_code_point(out, 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), escape_pos);
                return;
            }
            pos_ = saved;
        }
        append_code_point(out, unit, escape_pos);
    }

    void append_code_point(std::string& out, std::uint32_t cp, size_t escape_pos) {
        if (cp >= 0xD800 && cp <= 0xDFFF) fail_at(escape_pos, "lone surrogate escape cannot be stored as UTF-8");
        if (cp > 0x10FFFF) fail_at(escape_pos, "escape beyond U+10FFFF");
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }

    nlohmann::json parse_number() {
        const size_t start = pos_;
        bool negative = false;
        if (s_[pos_] == '-' || s_[pos_] == '+') {
            negative = s_[pos_] == '-';
            ++pos_;
            skip_space();
        }
        const size_t digits_start = pos_;
        const size_t int_digits = count_digits();
        bool is_float = false;
        size_t frac_digits = 0;
        if (peek() == '.') {
            is_float = true;
            ++pos_;
            frac_digits = count_digits();
        }
        if (int_digits == 0 && frac_digits == 0) fail_at(start, "expected a number");
        if (peek() == 'e' || peek() == 'E') {
            is_float = true;
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (count_digits() == 0) fail_at(start, "malformed exponent in a number");
        }
        if (pos_ < s_.size() && is_name_char(s_[pos_])) fail_at(start, "malformed number");
        const std::string digits(s_.substr(digits_start, pos_ - digits_start));
        if (is_float) {
            // from_chars, unlike strtod, ignores the locale (the GUI runs under the user's).
            double value = 0;
            const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), value);
            if (result.ec != std::errc() || result.ptr != digits.data() + digits.size() || !std::isfinite(value)) fail_at(start, "number out of range");
            return negative ? -value : value;
        }
        if (digits.size() > 1 && digits[0] == '0') fail_at(start, "leading zeros are not allowed in an int");
        std::uint64_t magnitude = 0;
        for (char d : digits) {
            const auto digit = static_cast<std::uint64_t>(d - '0');
            if (magnitude > (static_cast<std::uint64_t>(INT64_MAX) + 1 - digit) / 10) {
                fail_at(start, "int out of the 64-bit range");
            }
            magnitude = magnitude * 10 + digit;
        }
        if (!negative && magnitude > static_cast<std::uint64_t>(INT64_MAX)) fail_at(start, "int out of the 64-bit range");
        if (negative) return magnitude == 0 ? std::int64_t{0} : -static_cast<std::int64_t>(magnitude - 1) - 1;
        return static_cast<std::int64_t>(magnitude);
    }

    nlohmann::json parse_name() {
        const size_t start = pos_;
        while (pos_ < s_.size() && is_name_char(s_[pos_])) ++pos_;
        const std::string_view name = s_.substr(start, pos_ - start);
        if (name == "True") return true;
        if (name == "False") return false;
        if (name == "None") return nullptr;
        fail_at(start, "unexpected name '" + std::string(name) + "' (only True, False and None are allowed)");
    }

    size_t count_digits() {
        const size_t start = pos_;
        while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
        return pos_ - start;
    }

    static bool is_name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               (static_cast<unsigned char>(c) >= 0x80);
    }

    char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

    void skip_space() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\f')) ++pos_;
    }

    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }

    [[noreturn]] void fail(const std::string& problem) const { fail_at(pos_, problem); }

    [[noreturn]] void fail_at(size_t offset, const std::string& problem) const {
        // Column in characters: count UTF-8 lead bytes before `offset`.
        size_t column = 1;
        for (size_t i = 0; i < offset && i < s_.size(); ++i) {
            if ((static_cast<unsigned char>(s_[i]) & 0xC0) != 0x80) ++column;
        }
        throw DataError(path_, line_, "Python literal, column " + std::to_string(column) + ": " + problem);
    }

    std::string_view s_;
    const std::string& path_;
    std::int64_t line_;
    size_t pos_ = 0;
};

}  // namespace

nlohmann::json parse_python_literal(std::string_view text, const std::string& path, std::int64_t line) {
    return PythonLiteralParser(text, path, line).parse_all();
}

// ---- Loading ----

namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

std::int64_t line_of_offset(std::string_view text, size_t offset) {
    return 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
}

bool is_blank(std::string_view s) { return s.find_first_not_of(" \t\n\v\f\r") == std::string_view::npos; }

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Which fields of a record hold what: "id" or "fname"; "summary" or "summary1".."summaryN"; same for "topic".
struct FieldLayout {
    std::string id;
    std::vector<std::string> references;
    std::vector<std::string> topics;
};

// Resolves the layout from `has(name)`; `missing(problem)` must throw.
template <class Has, class Missing>
FieldLayout resolve_layout(const Has& has, const Missing& missing, std::string_view what) {
    FieldLayout layout;
    if (has("id")) layout.id = "id";
    else if (has("fname")) layout.id = "fname";
    else missing("missing " + std::string(what) + " \"id\" (or \"fname\")");
    if (!has("dialogue")) missing("missing " + std::string(what) + " \"dialogue\"");
    auto numbered = [&](const std::string& base) {
        std::vector<std::string> names;
        if (has(base)) {
            names.push_back(base);
            return names;
        }
        for (int i = 1; has(base + std::to_string(i)); ++i) names.push_back(base + std::to_string(i));
        return names;
    };
    layout.references = numbered("summary");
    if (layout.references.empty()) missing("missing " + std::string(what) + " \"summary\" (or \"summary1\", \"summary2\", ...)");
    layout.topics = numbered("topic");
    return layout;
}

// Adds examples to a split, checking each row's content and applying the bad-row policy.
class SplitBuilder {
public:
    SplitBuilder(DialogSumSplit& split, const LoadOptions& options) : split_(split), options_(options) {}

    void add(DialogSumExample example, const FieldLayout& layout) {
        if (auto reason = problem_of(example, layout)) {
            if (options_.on_bad_row == BadRowPolicy::fail) {
                const std::string which = example.id.empty() ? std::string() : " (id " + in_quotes(example.id) + ")";
                throw DataError(split_.path, example.line, *reason + which);
            }
            split_.skipped.push_back({split_.path, example.line, std::move(example.id), std::move(*reason)});
            return;
        }
        first_line_.emplace(example.id, example.line);
        split_.examples.push_back(std::move(example));
    }

private:
    std::optional<std::string> problem_of(const DialogSumExample& example, const FieldLayout& layout) const {
        if (example.id.empty()) return std::string("empty id");
        if (is_blank(example.dialogue)) return std::string("empty dialogue");
        for (size_t i = 0; i < example.references.size(); ++i) {
            if (is_blank(example.references[i])) return "empty " + layout.references[i];
        }
        auto seen = first_line_.find(example.id);
        if (seen != first_line_.end()) {
            return "duplicate id (first on line " + std::to_string(seen->second) + ")";
        }
        return std::nullopt;
    }

    DialogSumSplit& split_;
    const LoadOptions& options_;
    std::unordered_map<std::string, std::int64_t> first_line_;
};

void parse_csv_split(std::string_view text, DialogSumSplit& split, const LoadOptions& options) {
    CsvTable table = parse_csv(text, split.path);
    // The header's line: parse_csv skips a byte-order mark and blank lines before it.
    std::string_view rest = text.substr(0, utf8_bom.size()) == utf8_bom ? text.substr(utf8_bom.size()) : text;
    const size_t header_start = rest.find_first_not_of("\r\n");
    const std::int64_t header_line = header_start == std::string_view::npos ? 1 : line_of_offset(rest, header_start);

    const FieldLayout layout = resolve_layout(
        [&](const std::string& name) { return table.column(name) >= 0; },
        [&](const std::string& problem) -> void {
            std::string columns;
            for (const auto& name : table.header) columns += (columns.empty() ? "" : ", ") + name;
            throw DataError(split.path, header_line, problem + " (the header has: " + columns + ")");
        },
        "column");
    const int id_column = table.column(layout.id);
    const int dialogue_column = table.column("dialogue");
    std::vector<int> reference_columns, topic_columns;
    for (const auto& name : layout.references) reference_columns.push_back(table.column(name));
    for (const auto& name : layout.topics) topic_columns.push_back(table.column(name));

    SplitBuilder builder(split, options);
    split.examples.reserve(table.rows.size());
    for (size_t r = 0; r < table.rows.size(); ++r) {
        auto& row = table.rows[r];
        DialogSumExample example;
        example.line = table.row_lines[r];
        example.id = std::move(row[static_cast<size_t>(id_column)]);
        example.dialogue = std::move(row[static_cast<size_t>(dialogue_column)]);
        for (int c : reference_columns) example.references.push_back(std::move(row[static_cast<size_t>(c)]));
        for (int c : topic_columns) example.topics.push_back(std::move(row[static_cast<size_t>(c)]));
        builder.add(std::move(example), layout);
    }
}

// Adds one JSON object (from JSON Lines or a Python literal) as an example.
void add_object(nlohmann::json& value, std::int64_t line, SplitBuilder& builder, const std::string& path) {
    if (!value.is_object()) throw DataError(path, line, "expected an object with \"id\", \"dialogue\" and \"summary\"");
    const FieldLayout layout = resolve_layout(
        [&](const std::string& name) { return value.contains(name); },
        [&](const std::string& problem) -> void { throw DataError(path, line, problem); }, "field");
    auto take = [&](const std::string& name) {
        auto& field = value[name];
        if (!field.is_string()) throw DataError(path, line, "field " + in_quotes(name) + " must be a string");
        return std::move(field.get_ref<std::string&>());
    };
    DialogSumExample example;
    example.line = line;
    example.id = take(layout.id);
    example.dialogue = take("dialogue");
    for (const auto& name : layout.references) example.references.push_back(take(name));
    for (const auto& name : layout.topics) example.topics.push_back(take(name));
    builder.add(std::move(example), layout);
}

void parse_jsonl_split(std::string_view text, DialogSumSplit& split, const LoadOptions& options) {
    auto records = parse_jsonl(std::string(text), split.path);
    SplitBuilder builder(split, options);
    split.examples.reserve(records.size());
    for (auto& record : records) add_object(record.value, record.line, builder, split.path);
}

// Calls f(line_number, line) for every non-blank line, without its "\r\n" or "\n".
template <class F>
void for_each_line(std::string_view text, const F& f) {
    std::int64_t line_no = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        ++line_no;
        std::string_view line = text.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = end + 1;
        if (!is_blank(line)) f(line_no, line);
    }
}

void parse_python_split(std::string_view text, DialogSumSplit& split, const LoadOptions& options) {
    SplitBuilder builder(split, options);
    for_each_line(text, [&](std::int64_t line_no, std::string_view line) {
        nlohmann::json value = parse_python_literal(line, split.path, line_no);
        add_object(value, line_no, builder, split.path);
    });
}

struct FolderListing {
    std::vector<std::string> files;    // regular files (symbolic links followed), sorted
    std::vector<std::string> folders;  // sorted
};

FolderListing list_folder(const std::string& path) {
    std::error_code ec;
    FolderListing listing;
    for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (it->is_regular_file(type_ec)) listing.files.push_back(it->path().filename().string());
        else if (it->is_directory(type_ec)) listing.folders.push_back(it->path().filename().string());
    }
    if (ec) throw FileError(path, "cannot list the folder: " + ec.message());
    std::sort(listing.files.begin(), listing.files.end());
    std::sort(listing.folders.begin(), listing.folders.end());
    return listing;
}

}  // namespace

DataFormat detect_format(std::string_view path, std::string_view text) {
    if (ascii_lower(extension_of(path)) == "csv") return DataFormat::csv;
    if (text.substr(0, utf8_bom.size()) == utf8_bom) text.remove_prefix(utf8_bom.size());
    std::optional<std::string_view> first;
    for (size_t pos = 0; pos < text.size() && !first;) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!is_blank(line)) first = line;
        pos = end + 1;
    }
    if (!first) return DataFormat::jsonl;
    if (nlohmann::json::accept(first->begin(), first->end())) return DataFormat::jsonl;
    // Neither parses: the dict's first key decides whose error the user sees.
    const size_t brace = first->find_first_not_of(" \t");
    const size_t key = first->find_first_not_of(" \t", brace == std::string_view::npos ? 0 : brace + 1);
    if (key != std::string_view::npos && (*first)[brace] == '{' && (*first)[key] == '\'') return DataFormat::python_literal;
    try {
        parse_python_literal(*first, std::string(path), 1);
        return DataFormat::python_literal;
    } catch (const DataError&) {
        return DataFormat::jsonl;
    }
}

DialogSumSplit parse_dialogsum(std::string_view text, DataFormat format, Split split, const std::string& path,
                               const LoadOptions& options) {
    DialogSumSplit result;
    result.split = split;
    result.path = path;
    result.format = format;
    if (format == DataFormat::csv) {
        parse_csv_split(text, result, options);
        return result;
    }
    if (text.substr(0, utf8_bom.size()) == utf8_bom) text.remove_prefix(utf8_bom.size());
    size_t bad = 0;
    if (!is_valid_utf8(text, &bad)) {
        throw DataError(path, line_of_offset(text, bad), "invalid UTF-8 (byte " + std::to_string(bad) + " of the file)");
    }
    if (format == DataFormat::jsonl) parse_jsonl_split(text, result, options);
    else parse_python_split(text, result, options);
    return result;
}

DialogSumSplit load_dialogsum_file(const std::string& path, Split split, const LoadOptions& options) {
    const std::string text = read_data_file(path);
    return parse_dialogsum(text, detect_format(path, text), split, path, options);
}

DialogSumDataset load_dialogsum(const std::string& path, const LoadOptions& options) {
    DialogSumDataset dataset;
    dataset.path = path;
    if (is_file(path)) {
        std::optional<Split> split = options.split ? options.split : split_from_file_name(path);
        if (!split && options.lone_file_split) {
            split = options.lone_file_split;
            dataset.notes.push_back(path + ": the file name names no split; reading it as the " + std::string(split_name(*split)) + " split");
        }
        if (!split) {
            throw DataError(path, 0, "cannot tell the split from the file name; name it (train, validation, test)");
        }
        dataset.splits.push_back(load_dialogsum_file(path, *split, options));
        return dataset;
    }
    if (!is_directory(path)) throw FileError(path, "no such file or folder");

    const FolderListing listing = list_folder(path);
    std::map<Split, std::string> files;
    for (const auto& name : listing.files) {
        if (!is_data_extension(name)) continue;
        const auto split = split_from_file_name(name);
        if (!split) continue;
        auto [it, inserted] = files.emplace(*split, name);
        if (!inserted) {
            throw DataError(path, 0, "both " + it->second + " and " + name + " look like the " +
                                         std::string(split_name(*split)) + " split; load one of them by its file name");
        }
    }
    if (files.empty()) {
        // Pointing at the parent of csv/ and jsonl/ is an easy mistake: name the subfolders that would load.
        std::string candidates;
        for (const auto& folder : listing.folders) {
            const FolderListing inner = list_folder(join_path(path, folder));
            const bool has_split = std::any_of(inner.files.begin(), inner.files.end(), [](const std::string& name) {
                return is_data_extension(name) && split_from_file_name(name).has_value();
            });
            if (has_split) candidates += (candidates.empty() ? "" : ", ") + join_path(path, folder);
        }
        throw DataError(path, 0, "no DialogSum files here: expected train.csv, validation.csv, test.csv (Hugging Face) "
                                 "or dialogsum.train.jsonl, dialogsum.dev.jsonl, dialogsum.test.jsonl" +
                                     (candidates.empty() ? std::string() : "; these subfolders have some: " + candidates));
    }
    if (options.split && files.count(*options.split) == 0) {
        std::string found;
        for (const auto& [split, name] : files) found += (found.empty() ? "" : ", ") + name;
        throw DataError(path, 0, "no " + std::string(split_name(*options.split)) + " file here (found: " + found + ")");
    }
    for (const auto& [split, name] : files) {
        if (options.split && split != *options.split) continue;
        dataset.splits.push_back(load_dialogsum_file(join_path(path, name), split, options));
    }
    return dataset;
}

// ---- Selection ----

namespace {

// Uniform in [0, range): rejects the lowest 2^64 mod range raw values so the rest divide evenly.
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t range) {
    const std::uint64_t threshold = (0 - range) % range;
    while (true) {
        const std::uint64_t x = rng();
        if (x >= threshold) return x % range;
    }
}

}  // namespace

std::vector<size_t> subsample_indices(size_t population, size_t sample_size, std::uint64_t seed) {
    std::vector<size_t> indices(population);
    std::iota(indices.begin(), indices.end(), size_t{0});
    if (sample_size >= population) return indices;
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i < sample_size; ++i) {
        const size_t j = i + static_cast<size_t>(uniform_below(rng, population - i));
        std::swap(indices[i], indices[j]);
    }
    indices.resize(sample_size);
    std::sort(indices.begin(), indices.end());
    return indices;
}

DialogSumSplit select_examples(const DialogSumSplit& split, const Selection& selection) {
    if (selection.every_kth == 0) throw ConfigError("selection", "every_kth", "must be at least 1");
    std::vector<size_t> kept;
    for (size_t i = 0; i < split.examples.size(); i += selection.every_kth) kept.push_back(i);
    if (selection.sample_size) {
        std::vector<size_t> sampled;
        for (size_t k : subsample_indices(kept.size(), *selection.sample_size, selection.seed)) sampled.push_back(kept[k]);
        kept = std::move(sampled);
    }
    if (selection.limit && kept.size() > *selection.limit) kept.resize(*selection.limit);

    DialogSumSplit result;
    result.split = split.split;
    result.path = split.path;
    result.format = split.format;
    result.skipped = split.skipped;
    result.examples.reserve(kept.size());
    for (size_t i : kept) result.examples.push_back(split.examples[i]);
    return result;
}

// ---- Statistics ----

size_t count_whitespace_words(std::string_view text) {
    size_t words = 0;
    bool in_word = false;
    for (char c : text) {
        const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
        if (!space && !in_word) ++words;
        in_word = !space;
    }
    return words;
}

std::string_view length_unit_name(LengthUnit unit) { return unit == LengthUnit::tokens ? "tokens" : "words"; }

std::vector<size_t> automatic_bin_edges(size_t max_value, size_t bins) {
    if (bins == 0) throw ConfigError("length statistics", "bins", "must be at least 1");
    size_t width = 1;
    for (size_t scale = 1;; scale *= 10) {
        if (scale * bins > max_value) { width = scale; break; }
        if (2 * scale * bins > max_value) { width = 2 * scale; break; }
        if (5 * scale * bins > max_value) { width = 5 * scale; break; }
    }
    std::vector<size_t> edges;
    for (size_t i = 0; i < bins && i * width <= max_value; ++i) edges.push_back(i * width);
    return edges;
}

namespace {

// numpy.percentile's default ("linear"): position q * (n - 1) in the sorted values.
double percentile(const std::vector<size_t>& sorted, double q) {
    const double position = q * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<size_t>(std::floor(position));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    const double fraction = position - static_cast<double>(lo);
    return static_cast<double>(sorted[lo]) + fraction * (static_cast<double>(sorted[hi]) - static_cast<double>(sorted[lo]));
}

}  // namespace

LengthDistribution length_distribution(std::vector<size_t> lengths, size_t max_length, std::vector<size_t> bin_edges) {
    std::sort(lengths.begin(), lengths.end());
    LengthDistribution d;
    d.count = lengths.size();
    d.max_length = max_length;
    if (!lengths.empty()) {
        d.min = lengths.front();
        d.max = lengths.back();
        long double sum = 0;
        for (size_t n : lengths) sum += static_cast<long double>(n);
        d.mean = static_cast<double>(sum / static_cast<long double>(lengths.size()));
        d.median = percentile(lengths, 0.5);
        d.p95 = percentile(lengths, 0.95);
    }
    if (bin_edges.empty()) bin_edges = automatic_bin_edges(d.max);
    if (bin_edges.front() != 0) throw ConfigError("length statistics", "bin_edges", "the first edge must be 0");
    for (size_t i = 1; i < bin_edges.size(); ++i) {
        if (bin_edges[i] <= bin_edges[i - 1]) {
            throw ConfigError("length statistics", "bin_edges", "edges must strictly increase");
        }
    }
    d.histogram.assign(bin_edges.size(), 0);
    for (size_t n : lengths) {
        const auto bin = std::upper_bound(bin_edges.begin(), bin_edges.end(), n) - bin_edges.begin() - 1;
        ++d.histogram[static_cast<size_t>(bin)];
        if (n > max_length) ++d.truncated;
    }
    d.bin_edges = std::move(bin_edges);
    d.truncated_fraction = d.count == 0 ? 0.0 : static_cast<double>(d.truncated) / static_cast<double>(d.count);
    return d;
}

SplitStatistics split_statistics(const DialogSumSplit& split, const StatisticsOptions& options) {
    const TokenCounter count = options.count_tokens
                                   ? options.count_tokens
                                   : TokenCounter([](const std::string& text) { return count_whitespace_words(text); });
    SplitStatistics s;
    s.split = split.split;
    s.examples = split.examples.size();
    s.references = split.reference_count();
    s.skipped = split.skipped.size();
    s.unit = options.count_tokens ? LengthUnit::tokens : LengthUnit::words;

    std::vector<size_t> prompt_lengths, summary_lengths;
    std::set<std::string_view> topics;
    prompt_lengths.reserve(s.examples);
    summary_lengths.reserve(s.references);
    for (const auto& example : split.examples) {
        prompt_lengths.push_back(count(options.prompt.render(example.dialogue)));
        for (const auto& reference : example.references) summary_lengths.push_back(count(reference));
        for (const auto& topic : example.topics) topics.insert(topic);
    }
    s.distinct_topics = topics.size();
    s.prompt_lengths = length_distribution(std::move(prompt_lengths), options.max_source_length, options.prompt_bin_edges);
    s.summary_lengths = length_distribution(std::move(summary_lengths), options.max_target_length, options.summary_bin_edges);
    return s;
}

nlohmann::json to_json(const LengthDistribution& d) {
    return {{"count", d.count},
            {"min", d.min},
            {"mean", d.mean},
            {"median", d.median},
            {"p95", d.p95},
            {"max", d.max},
            {"bin_edges", d.bin_edges},
            {"histogram", d.histogram},
            {"max_length", d.max_length},
            {"truncated", d.truncated},
            {"truncated_fraction", d.truncated_fraction}};
}

nlohmann::json to_json(const SplitStatistics& s) {
    return {{"split", split_name(s.split)},
            {"examples", s.examples},
            {"references", s.references},
            {"skipped", s.skipped},
            {"distinct_topics", s.distinct_topics},
            {"unit", length_unit_name(s.unit)},
            {"prompt_lengths", to_json(s.prompt_lengths)},
            {"summary_lengths", to_json(s.summary_lengths)}};
}

}  // namespace sumlab
