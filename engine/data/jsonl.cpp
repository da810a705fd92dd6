#include "engine/data/jsonl.h"

#include "engine/data/csv.h"
#include "base/errors.h"
#include "base/file_util.h"

#include <iostream>
#include <iterator>

namespace sumlab {

std::vector<JsonlRecord> read_jsonl(const std::string& path) {
    if (path == "-") {
        std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
        return parse_jsonl(text, "<stdin>");
    }
    return parse_jsonl(read_data_file(path), path);
}

std::vector<JsonlRecord> parse_jsonl(const std::string& text, const std::string& path) {
    std::vector<JsonlRecord> records;
    std::int64_t line_no = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        ++line_no;
        std::string_view line(text.data() + pos, end - pos);
        pos = end + 1;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        try {
            records.push_back({line_no, nlohmann::json::parse(line)});
        } catch (const nlohmann::json::exception& e) {
            std::string why = e.what();
            // nlohmann's messages start with "[json.exception.parse_error.101] "; keep the readable part.
            auto bracket = why.find("] ");
            throw DataError(path, line_no, "invalid JSON: " + (bracket == std::string::npos ? why : why.substr(bracket + 2)));
        }
    }
    return records;
}

std::string require_string(const JsonlRecord& record, const std::string& key, const std::string& path) {
    if (!record.value.is_object()) throw DataError(path, record.line, "expected a JSON object");
    auto it = record.value.find(key);
    if (it == record.value.end()) throw DataError(path, record.line, "missing field \"" + key + "\"");
    if (!it->is_string()) throw DataError(path, record.line, "field \"" + key + "\" must be a string");
    return it->get<std::string>();
}

}  // namespace sumlab
