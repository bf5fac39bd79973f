#ifndef STOWAWAY_CLZMA_SHIM_H
#define STOWAWAY_CLZMA_SHIM_H
#include <lzma.h>

// Flags defined through UINT32_C, which Swift does not import.
static const uint32_t stowaway_lzma_concatenated = LZMA_CONCATENATED;
#endif
