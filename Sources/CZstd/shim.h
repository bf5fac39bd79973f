#ifndef STOWAWAY_CZSTD_SHIM_H
#define STOWAWAY_CZSTD_SHIM_H
#include <zstd.h>
#endif
