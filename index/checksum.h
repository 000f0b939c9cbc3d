/* checksum.h -- the sha256 the export's manifest records for each file, as
 * 64 hex digits (nettle): written by rag_build.c and rag_update.c, checked
 * by bm25_search.c and rag_search.c. Internal to index/. */
#ifndef CM_CHECKSUM_H
#define CM_CHECKSUM_H

#include <nettle/sha2.h>
#include <stdio.h>

/* The digest of ctx (finished by it) as 64 hex digits and a NUL. */
static inline void cm_sha256_finish_hex(struct sha256_ctx *ctx, char hex[65])
{
    unsigned char digest[SHA256_DIGEST_SIZE];
    sha256_digest(ctx, sizeof digest, digest);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

static inline void cm_sha256_hex(const void *data, size_t len, char hex[65])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    cm_sha256_finish_hex(&ctx, hex);
}

#endif
