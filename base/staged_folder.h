// A folder published whole: its files are written into a hidden temporary sibling, which is renamed
// to the final name only when everything is in it. Readers (the Models page, a training that is
// started at once) never see a half-written model or tokenizer folder, and a failure leaves nothing.
//
//     StagedFolder out(output_dir);           // refuses an existing, non-empty output_dir
//     write_atomically(join_path(out.path(), "config.json"), text);
//     out.commit();                           // rename; without it the destructor removes the temporary
#pragma once

#include <string>

namespace sumlab {

class StagedFolder {
public:
    // Throws FileError naming `final_dir` when it exists and is not an empty folder, when its parent
    // cannot be created, or when the temporary folder cannot be made. Creates missing parents.
    explicit StagedFolder(std::string final_dir);
    ~StagedFolder();
    StagedFolder(const StagedFolder&) = delete;
    StagedFolder& operator=(const StagedFolder&) = delete;

    // Where to write the files now (the temporary folder; the final one after commit()).
    const std::string& path() const { return committed_ ? final_ : temp_; }
    const std::string& final_path() const { return final_; }

    // Renames the temporary folder to the final name (replacing an empty folder there) and syncs
    // the parent. Throws FileError naming the final folder when that fails (the temporary is removed).
    void commit();

private:
    std::string final_;
    std::string temp_;
    bool committed_ = false;
};

// FileError naming `dir` when it exists and is not an empty folder (a message a user can act on).
void require_free_output_folder(const std::string& dir);

}  // namespace sumlab
