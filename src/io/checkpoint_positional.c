/* Reading checkpoints of versions 1 to 3 (t2g/checkpoint.h): a fixed header, the config, then
 * the parameters, their moments and the auxiliary part as positional float arrays. Nothing is
 * allocated before the header's sizes agree with the file's length. */
#include <string.h>
#include <stdlib.h>

#include "io/checkpoint_internal.h"

enum {
    HEADER_V1_BYTES = 56, /* step, cursor (3), rng state, parameter count, config bytes: 7 x u64 */
    HEADER_V2_BYTES = 72, /* version 2: and the auxiliary count and scalar */
    HEADER_V3_BYTES = 80, /* version 3: and the run kind and the start's CRC */
};

/* The header's sizes against the file's length, without overflow. */
static t2g_status check_sizes(ckpt_reader *r, uint32_t header_bytes, uint64_t param_count, uint64_t config_bytes,
                              uint64_t aux_count, t2g_error *err) {
    uint64_t fixed = (uint64_t)CKPT_PREAMBLE_BYTES + header_bytes + CKPT_CRC_BYTES;
    uint64_t room = r->size - fixed;
    if (aux_count > room / 12 || config_bytes > room - 12 * aux_count ||
        param_count > (room - 12 * aux_count - config_bytes) / 12) {
        if (aux_count <= UINT64_MAX / 24 && config_bytes <= UINT64_MAX / 2 - fixed &&
            param_count <= (UINT64_MAX / 2 - fixed - config_bytes) / 12)
            return ckpt_damaged(r, err, "truncated: expected %llu bytes (%llu parameters, %llu bytes of config), the file has %llu",
                                (unsigned long long)(fixed + config_bytes + 12 * param_count + 12 * aux_count),
                                (unsigned long long)param_count, (unsigned long long)config_bytes,
                                (unsigned long long)r->size);
        return ckpt_damaged(r, err,
                            "truncated: its header describes %llu parameters and %llu bytes of config, more than any file "
                            "holds; the file has %llu bytes",
                            (unsigned long long)param_count, (unsigned long long)config_bytes, (unsigned long long)r->size);
    }
    uint64_t expected = fixed + config_bytes + 12 * param_count + 12 * aux_count;
    if (expected < r->size)
        return ckpt_damaged(r, err, "corrupted: the file has %llu bytes, %llu more than its header describes (%llu)",
                            (unsigned long long)r->size, (unsigned long long)(r->size - expected),
                            (unsigned long long)expected);
    if (param_count > SIZE_MAX / sizeof(float) || aux_count > SIZE_MAX / sizeof(float) || config_bytes >= SIZE_MAX)
        return t2g_fail(err, T2G_ERR_MEMORY, "checkpoint %s: too large for this machine's address space", r->path);
    return T2G_OK;
}

/* Three arrays of n floats each, one after the other in the file. */
static t2g_status read_three(ckpt_reader *r, uint64_t n, float **a, float **b, float **c, t2g_error *err) {
    size_t bytes = (size_t)n * sizeof(float);
    *a = malloc(bytes ? bytes : 1);
    *b = malloc(bytes ? bytes : 1);
    *c = malloc(bytes ? bytes : 1);
    if (!*a || !*b || !*c)
        return t2g_fail(err, T2G_ERR_MEMORY, "checkpoint %s: out of memory for 3 x %llu floats", r->path,
                        (unsigned long long)n);
    t2g_status status = ckpt_read_floats(r, *a, n, err);
    if (!status) status = ckpt_read_floats(r, *b, n, err);
    if (!status) status = ckpt_read_floats(r, *c, n, err);
    return status;
}

t2g_status ckpt_load_positional(ckpt_reader *r, uint32_t version, uint32_t header_bytes, t2g_checkpoint *ck,
                                t2g_error *err) {
    uint32_t known_header = version == 1 ? HEADER_V1_BYTES : version == 2 ? HEADER_V2_BYTES : HEADER_V3_BYTES;
    if (header_bytes < known_header)
        return ckpt_damaged(r, err, "corrupted: a header of %u bytes; version %u has %u", header_bytes, version,
                            known_header);
    if ((uint64_t)CKPT_PREAMBLE_BYTES + header_bytes + CKPT_CRC_BYTES > r->size)
        return ckpt_damaged(r, err, "truncated: expected at least %llu bytes (its header alone has %u), the file has %llu",
                            (unsigned long long)CKPT_PREAMBLE_BYTES + header_bytes + CKPT_CRC_BYTES, header_bytes,
                            (unsigned long long)r->size);

    /* the header; bytes past the fields of its version are skipped (but checked by the CRC) */
    unsigned char head[HEADER_V3_BYTES] = {0};
    t2g_status status = ckpt_read_exactly(r, head, known_header, err);
    if (!status) status = ckpt_skip(r, header_bytes - known_header, err);
    if (status) return status;
    uint64_t param_count = ckpt_get_u64(head + 40), config_bytes = ckpt_get_u64(head + 48);
    uint64_t aux_count = ckpt_get_u64(head + 56), aux_scalar_bits = ckpt_get_u64(head + 64); /* 0 in version 1 */
    uint32_t kind = ckpt_get_u32(head + 72), start_crc = ckpt_get_u32(head + 76);           /* 0 before version 3 */
    if (version < 3) kind = aux_count ? T2G_RUN_RL : T2G_RUN_TRAIN;
    status = check_sizes(r, header_bytes, param_count, config_bytes, aux_count, err);
    if (status) return status;

    ck->step = ckpt_get_u64(head + 0);
    ck->cursor.seed = ckpt_get_u64(head + 8);
    ck->cursor.epoch = ckpt_get_u64(head + 16);
    ck->cursor.position = ckpt_get_u64(head + 24);
    ck->rng_state = ckpt_get_u64(head + 32);
    ck->kind = (t2g_run_kind)kind;
    ck->start_crc = start_crc;
    ck->param_count = param_count;
    ck->config_json = malloc((size_t)config_bytes + 1);
    if (!ck->config_json) return t2g_fail(err, T2G_ERR_MEMORY, "checkpoint %s: out of memory for its config", r->path);
    status = ckpt_read_exactly(r, ck->config_json, (size_t)config_bytes, err);
    ck->config_json[config_bytes] = '\0';
    if (!status) status = read_three(r, param_count, &ck->params, &ck->m, &ck->v, err);
    if (status) return status;
    ck->aux_count = aux_count;
    memcpy(&ck->aux_scalar, &aux_scalar_bits, sizeof ck->aux_scalar);
    if (aux_count) status = read_three(r, aux_count, &ck->aux_params, &ck->aux_m, &ck->aux_v, err);
    if (!status) status = ckpt_check_crc(r, ck, err);
    if (status) return status;
    if (kind != T2G_RUN_TRAIN && kind != T2G_RUN_RL)
        return t2g_fail(err, T2G_ERR_FORMAT, "checkpoint %s: run kind %u is neither 1 (train) nor 2 (rl)", r->path, kind);
    if (memchr(ck->config_json, '\0', (size_t)config_bytes))
        return t2g_fail(err, T2G_ERR_FORMAT, "checkpoint %s: corrupted: its config text holds a NUL byte", r->path);
    return T2G_OK;
}
