// CSV reading and writing compatible with Python's csv module and pandas (see csv.h for the contract).
// The reader is strict: anything Python's writer would not have produced is a DataError naming the line.
#include "engine/data/csv.h"

#include "base/errors.h"
#include "base/file_util.h"

#include <algorithm>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_set>

namespace sumlab {

int CsvTable::column(std::string_view name) const {
    for (size_t i = 0; i < header.size(); ++i) {
        if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
}

bool is_valid_utf8(std::string_view text, size_t* bad_offset) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    size_t i = 0;
    while (i < n) {
        // ASCII fast path, eight bytes at a time.
        if (i + 8 <= n) {
            std::uint64_t chunk;
            std::memcpy(&chunk, s + i, 8);
            if ((chunk & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        // Well-formed sequences per Unicode Table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF.
        size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            if (bad_offset) *bad_offset = i;
            return false;
        }
        if (i + len > n) {
            if (bad_offset) *bad_offset = i;
            return false;
        }
        if (s[i + 1] < lo || s[i + 1] > hi) {
            if (bad_offset) *bad_offset = i;
            return false;
        }
        for (size_t k = 2; k < len; ++k) {
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) {
                if (bad_offset) *bad_offset = i;
                return false;
            }
        }
        i += len;
    }
    return true;
}

namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

// Incremental reader over the whole text; `line` is the 1-based physical line of `pos`.
class CsvParser {
public:
    CsvParser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

    bool at_end() const { return pos_ >= text_.size(); }

    // Skips blank lines between records (Python's DictReader and pandas skip them too).
    void skip_blank_lines() {
        while (pos_ < text_.size()) {
            if (text_[pos_] == '\n') {
                ++pos_;
                ++line_;
            } else if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
                pos_ += 2;
                ++line_;
            } else {
                break;
            }
        }
    }

    std::int64_t line() const { return line_; }

    // Reads one record starting at pos_; consumes its line end.
    std::vector<std::string> read_record() {
        std::vector<std::string> fields;
        while (true) {
            fields.push_back(read_field());
            if (pos_ >= text_.size()) return fields;
            const char c = text_[pos_];
            if (c == ',') {
                ++pos_;
                continue;
            }
            if (c == '\n') {
                ++pos_;
                ++line_;
                return fields;
            }
            // read_field stops only at ',', a line end or the end of the text; '\r' is always "\r\n" here.
            pos_ += 2;
            ++line_;
            return fields;
        }
    }

private:
    std::string read_field() {
        if (pos_ < text_.size() && text_[pos_] == '"') return read_quoted_field();
        const size_t start = pos_;
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c == ',' || c == '\n') break;
            if (c == '\r') {
                if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') break;
                fail(line_, "carriage return inside an unquoted field (fields with line breaks must be quoted)");
            }
            if (c == '"') fail(line_, "quote character inside an unquoted field (a field holding quotes must be quoted, "
                                      "with each quote doubled)");
            ++pos_;
        }
        return std::string(text_.substr(start, pos_ - start));
    }

    std::string read_quoted_field() {
        const std::int64_t start_line = line_;
        ++pos_;  // opening quote
        std::string value;
        while (true) {
            const size_t quote = text_.find('"', pos_);
            if (quote == std::string_view::npos) {
                fail(start_line, "unterminated quoted field (the closing quote is missing)");
            }
            const std::string_view chunk = text_.substr(pos_, quote - pos_);
            line_ += std::count(chunk.begin(), chunk.end(), '\n');
            value.append(chunk);
            pos_ = quote + 1;
            if (pos_ < text_.size() && text_[pos_] == '"') {
                value.push_back('"');
                ++pos_;
                continue;
            }
            break;
        }
        if (pos_ < text_.size()) {
            const char c = text_[pos_];
            const bool is_crlf = c == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n';
            if (c != ',' && c != '\n' && !is_crlf) {
                fail(line_, "unexpected character after a closing quote (a quote inside a quoted field must be doubled)");
            }
        }
        return value;
    }

    [[noreturn]] void fail(std::int64_t line, const std::string& problem) const {
        throw DataError(path_, line, "CSV: " + problem);
    }

    std::string_view text_;
    const std::string& path_;
    size_t pos_ = 0;
    std::int64_t line_ = 1;
};

// Line (1-based) holding byte `offset` of `text`.
std::int64_t line_of_offset(std::string_view text, size_t offset) {
    return 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
}

bool needs_quotes(const std::string& field) {
    return field.find_first_of(",\"\r\n") != std::string::npos;
}

void append_field(std::string& out, const std::string& field) {
    if (!needs_quotes(field)) {
        out += field;
        return;
    }
    out.push_back('"');
    for (char c : field) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
}

void append_record(std::string& out, const std::vector<std::string>& fields) {
    // A record of one empty field is written as "" so it does not read back as a blank line (as Python does).
    if (fields.size() == 1 && fields[0].empty()) {
        out += "\"\"\n";
        return;
    }
    for (size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) out.push_back(',');
        append_field(out, fields[i]);
    }
    out.push_back('\n');
}

}  // namespace

CsvTable parse_csv(std::string_view text, const std::string& path) {
    if (text.substr(0, utf8_bom.size()) == utf8_bom) text.remove_prefix(utf8_bom.size());
    size_t bad = 0;
    if (!is_valid_utf8(text, &bad)) {
        throw DataError(path, line_of_offset(text, bad), "invalid UTF-8 (byte " + std::to_string(bad) + " of the file)");
    }

    CsvParser parser(text, path);
    CsvTable table;
    parser.skip_blank_lines();
    if (parser.at_end()) throw DataError(path, 0, "CSV: the file is empty (expected a header row)");
    const std::int64_t header_line = parser.line();
    table.header = parser.read_record();
    std::unordered_set<std::string> seen;
    for (const auto& name : table.header) {
        if (!seen.insert(name).second) {
            throw DataError(path, header_line, "CSV: duplicate column name \"" + name + "\" in the header");
        }
    }

    while (true) {
        parser.skip_blank_lines();
        if (parser.at_end()) break;
        const std::int64_t line = parser.line();
        auto fields = parser.read_record();
        if (fields.size() != table.header.size()) {
            throw DataError(path, line,
                            "CSV: expected " + std::to_string(table.header.size()) + " fields as in the header, found " +
                                std::to_string(fields.size()));
        }
        table.rows.push_back(std::move(fields));
        table.row_lines.push_back(line);
    }
    return table;
}

std::string read_data_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGE_SIZE);
        const std::uint64_t memory = pages > 0 && page_size > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size)
                                                                : std::uint64_t{64} << 30;
        const std::uint64_t limit = std::min<std::uint64_t>(memory / 4, std::uint64_t{16} << 30);
        const auto size = static_cast<std::uint64_t>(st.st_size);
        if (size > limit)
            throw DataError(path, 0, "is " + std::to_string(size >> 20) + " MiB; SumLab reads a data file into memory and refuses files over " +
                                         std::to_string(limit >> 20) + " MiB (a quarter of this machine's memory): split it into smaller files");
    }
    return read_file(path);
}

CsvTable read_csv(const std::string& path) { return parse_csv(read_data_file(path), path); }

std::string format_csv(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    std::string out;
    append_record(out, header);
    for (const auto& row : rows) append_record(out, row);
    return out;
}

}  // namespace sumlab
