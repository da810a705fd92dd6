// The strict Python-literal parser (see python_literal.h): a recursive-descent reader of repr() output that
// builds JSON values and never evaluates anything.
#include "engine/data/python_literal.h"

#include "base/errors.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace sumlab {

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

}  // namespace sumlab
