// libFuzzer target: what the Hub client reads from a server (engine/hub/hub_parse.h, hub_files.h),
// fed the bytes HubClient would get from libcurl: the repository JSON (parse_repo_info, then the file
// selection and path checks download() applies to the listing; the same bytes as a sharded
// checkpoint's index, shards_of_index), and the header lines of a HEAD or GET (ResponseHeaders, then
// parse_file_metadata, Retry-After, Content-Range and the error text of a refusal).
// Input: the response body, a "--8<--" line, then the header lines (a status line first, as curl
// hands them over; each line may end in CRLF).
// Only sumlab::Error may leave the parsers, and what they return must hold what the client relies on.
#include "engine/hub/hub_files.h"
#include "engine/hub/hub_parse.h"
#include "fuzz/fuzz_support.h"
#include "base/errors.h"

#include <cstdlib>

namespace {
void require(bool holds) {
    if (!holds) std::abort();  // a broken promise of the parser: libFuzzer reports it as a crash
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sumlab;
    using namespace sumlab::hub;
    auto parts = fuzz::split_parts(data, size, 2);
    parts.resize(2);
    const std::string body(parts[0]);
    const std::string api_url = "https://huggingface.co/api/models/google/flan-t5-small/revision/main";
    const std::string file_url = "https://huggingface.co/google/flan-t5-small/resolve/main/model.safetensors";

    try {
        const RepoInfo info = parse_repo_info(body, api_url, 200);
        require(is_commit_hash(info.commit));
        for (FileSelection selection : {FileSelection::ModelFiles, FileSelection::AllFiles})
            for (const auto& f : select_files(info.files, selection)) {
                (void)is_safe_relative_path(f);
                (void)is_weights_index(f);
            }
    } catch (const Error&) {
    }
    try {
        for (const auto& shard : shards_of_index(body, "model.safetensors.index.json")) (void)is_safe_relative_path(shard);
    } catch (const Error&) {
    }

    ResponseHeaders headers;
    std::string_view lines = parts[1];
    while (!lines.empty()) {
        const size_t end = lines.find('\n');
        headers.add_line(lines.substr(0, end == std::string_view::npos ? lines.size() : end + 1));
        lines.remove_prefix(end == std::string_view::npos ? lines.size() : end + 1);
    }
    require(headers.status == 0 || (headers.status >= 100 && headers.status <= 999));
    try {
        const FileMetadata m = parse_file_metadata(headers, file_url);
        require(!m.commit.empty() && !m.etag.empty() && m.etag.size() <= 200 && m.etag.find('/') == std::string::npos);
        require(m.size >= 0 && m.size <= kMaxHubFileSize);
        require(m.location.rfind("https://", 0) == 0 || m.location.rfind("http://", 0) == 0);
        (void)m.is_lfs();
    } catch (const Error&) {
    }
    if (const auto wait = retry_after_ms(headers, 60'000)) require(*wait >= 0 && *wait <= 60'000);
    if (const auto first = content_range_start(headers)) require(*first >= 0);
    const std::string says = server_message(headers, body);
    require(says.size() <= 303);
    for (char c : says) require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
    (void)origin_of(headers.header("location"));
    return 0;
}
