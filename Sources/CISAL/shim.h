#ifndef STOWAWAY_CISAL_SHIM_H
#define STOWAWAY_CISAL_SHIM_H
// ISA-L's inflate (igzip) and its CRC-32 for gzip headers.
#include <isa-l/igzip_lib.h>
#include <isa-l/crc.h>
#endif
