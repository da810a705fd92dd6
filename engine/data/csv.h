// CSV as written by pandas / Python's csv module (RFC 4180: comma separator, double-quote quoting,
// "" inside quotes, newlines allowed inside quoted fields), UTF-8. Errors name the file and line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sumlab {

struct CsvTable {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;  // each row has header.size() fields
    std::vector<std::int64_t> row_lines;         // 1-based line on which each row starts

    // Index of a column by name, or -1.
    int column(std::string_view name) const;
};

// Reads and validates a CSV file (header row first). Throws DataError{path, line} for broken quoting,
// a row with the wrong number of fields, or invalid UTF-8. A UTF-8 byte-order mark is skipped.
CsvTable read_csv(const std::string& path);
CsvTable parse_csv(std::string_view text, const std::string& path);

// Formats rows as CSV the way Python's csv module does (quotes only fields that need them, \n line ends).
std::string format_csv(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// Reads a data file whole (CSV, JSON Lines) for the in-memory parsers. Parsing holds the text plus
// the parsed fields (about three times the file), so a file over a quarter of the machine's memory
// (or 16 GiB) is a DataError saying so, before anything is read: never a half-loaded crash.
std::string read_data_file(const std::string& path);

// True when `text` is valid UTF-8; sets *bad_offset to the first bad byte otherwise.
bool is_valid_utf8(std::string_view text, size_t* bad_offset = nullptr);

}  // namespace sumlab
