#ifndef STOWAWAY_CPCRE2_SHIM_H
#define STOWAWAY_CPCRE2_SHIM_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

// PCRE2's public names are macros over the _8 functions and some constants are
// expressions; Swift imports neither, so the few we use are restated here.
#endif
