// The strict Python-literal parser behind DialogSum's raw files (one dict literal per line): it reads the values
// repr() writes, the way ast.literal_eval does, into JSON, and evaluates nothing. Used by dialogsum.cpp; no torch.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sumlab {

// Parses one Python literal made of dicts (str keys), lists, str, int, float, True, False and None, the way
// ast.literal_eval reads repr() output: '...' and "..." strings (optional u prefix) with the escapes \\ \' \" \a
// \b \f \n \r \t \v \ooo \xNN \uNNNN \UNNNNNNNN (a \ud83d\ude00 pair is joined into one code point).
// Rejects everything else, including unknown escapes, lone surrogates, duplicate keys and trailing text;
// the DataError names `path`, `line` and the 1-based character column.
nlohmann::json parse_python_literal(std::string_view text, const std::string& path, std::int64_t line);

}  // namespace sumlab
