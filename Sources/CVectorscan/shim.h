#ifndef STOWAWAY_CVECTORSCAN_SHIM_H
#define STOWAWAY_CVECTORSCAN_SHIM_H
#include <hs/hs.h>
#endif
