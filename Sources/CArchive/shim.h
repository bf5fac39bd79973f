#ifndef STOWAWAY_CARCHIVE_SHIM_H
#define STOWAWAY_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>

// archive_set_error is variadic; Swift cannot call it.
static inline void stowaway_archive_set_error(struct archive *a, const char *msg) {
    archive_set_error(a, -1, "%s", msg);
}

// File-type macros are casts, which Swift does not import.
static const unsigned int stowaway_ae_ifreg = AE_IFREG;
static const unsigned int stowaway_ae_ifdir = AE_IFDIR;
static const unsigned int stowaway_ae_iflnk = AE_IFLNK;
#endif
