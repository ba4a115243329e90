// File checks for keys that name files: readable, and for secrets, private.
// Messages name the path, never the content.
#pragma once

#include <optional>
#include <string>

#include "core/result.h"

namespace wxpay {

// Ok when `path` is a regular file this process can open for reading;
// else "cannot read PATH: REASON".
Status CheckReadableFile(const std::string& path);

// The file's content without one trailing newline ("\n" or "\r\n"). Errors
// for an unreadable, empty, multi-line or oversized file; never the content.
Result<std::string> ReadSecretFile(const std::string& path);

// The whole file as text; an error ("cannot read PATH: REASON", or "PATH is
// larger than ...") when unreadable or longer than `max_size` bytes.
Result<std::string> ReadTextFile(const std::string& path, std::size_t max_size);

// "0644" when the file's mode lets group or others read it, else nullopt.
std::optional<std::string> ReadableByOthers(const std::string& path);

}  // namespace wxpay
