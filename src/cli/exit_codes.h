// Process exit codes (SPEC §4), sysexits-style.
#pragma once

namespace wxpay::exit_code {

inline constexpr int kOk = 0;
inline constexpr int kUsage = 64;        // EX_USAGE
inline constexpr int kBadData = 65;      // EX_DATAERR: invalid/unknown order, dead-lettering outcome
inline constexpr int kUnavailable = 69;  // EX_UNAVAILABLE: database, broker or WeChat Pay unreachable
inline constexpr int kInternal = 70;     // EX_SOFTWARE
inline constexpr int kTempFail = 75;     // EX_TEMPFAIL: a reschedule was decided; try again later
inline constexpr int kConfig = 78;       // EX_CONFIG: error in the configuration file

}  // namespace wxpay::exit_code
