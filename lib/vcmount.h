/* vcmount.h: the one header of libvcmount-1, the client library of the
 * vc-mount service (org.vc.Mount). */
#pragma once

#define VCMOUNT_INSIDE

#include "vcm-client-error.h"
#include "vcm-enum-types.h"
#include "vcm-info.h"
#include "vcm-mount-info.h"
#include "vcm-mount-options.h"
#include "vcm-rootfs.h"
#include "vcm-client.h"
#include "vcm-rootfs-set.h"

#undef VCMOUNT_INSIDE
