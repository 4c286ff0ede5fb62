/* t2g devices [--json]: every Vulkan device and what it supports. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char HELP[] =
    "usage: t2g devices [--json]\n"
    "\n"
    "Lists every Vulkan device: index, name, type, vendor, driver and version, Vulkan API,\n"
    "subgroup size range, shared memory, max storage-buffer range, device-local memory,\n"
    "fp16 / bf16 / int8 support, VK_KHR_cooperative_matrix and its shapes. The index or part\n"
    "of the name selects a device for other commands (--device or T2G_DEVICE).\n"
    "\n"
    "  --json   one JSON object {\"devices\": [...]} on standard output\n"
    "\n"
    "example: t2g devices --json\n";

static double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

static void print_text(const t2g_device_info *d) {
    printf("%u: %s\n", d->index, d->name);
    printf("    type %s, vendor %s (0x%04x), device 0x%04x\n", d->type, d->vendor, d->vendor_id, d->device_id);
    printf("    driver %s %s (%s), Vulkan %s\n", d->driver_name[0] ? d->driver_name : "?", d->driver_version,
           d->driver_info[0] ? d->driver_info : "no driver info", d->api_version_string);
    printf("    subgroup size %u (range %u-%u), shared memory %u KiB, max storage buffer %.0f MiB\n", d->subgroup_size,
           d->min_subgroup_size, d->max_subgroup_size, d->max_shared_memory_bytes / 1024, mib(d->max_storage_buffer_range));
    printf("    device-local memory %.0f MiB, max allocation %.0f MiB\n", mib(d->device_local_bytes),
           mib(d->max_allocation_bytes));
    if (d->memory_note[0]) printf("    (%s)\n", d->memory_note);
    printf("    fp16 %s, bf16 %s, int8 %s, fp64 %s, timestamps %s\n", d->fp16 ? "yes" : "no", d->bf16 ? "yes" : "no",
           d->int8 ? "yes" : "no", d->fp64 ? "yes" : "no", d->timestamps ? "yes" : "no");
    printf("    cooperative matrix (VK_KHR_cooperative_matrix): %s", d->cooperative_matrix ? "yes" : "no");
    for (uint32_t i = 0; i < d->coopmat_shape_count; i++) {
        const t2g_coopmat_shape *s = &d->coopmat_shapes[i];
        printf("%s%ux%ux%u %s*%s+%s->%s", i ? ", " : ": ", s->m, s->n, s->k, s->a_type, s->b_type, s->c_type,
               s->result_type);
    }
    printf("\n");
    printf("    16-bit storage (train.precision bf16, f16): %s; t2g's cooperative-matrix GEMM (f16 16x16x16): %s\n",
           d->storage_16bit ? "yes" : "no", d->coopmat_f16_16x16x16 ? "used" : "not used");
    if (!d->usable) printf("    cannot run t2g: %s\n", d->unusable_reason);
}

static cJSON *to_json(const t2g_device_info *d) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", d->index);
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "type", d->type);
    cJSON_AddStringToObject(o, "vendor", d->vendor);
    cJSON_AddNumberToObject(o, "vendor_id", d->vendor_id);
    cJSON_AddNumberToObject(o, "device_id", d->device_id);
    cJSON_AddStringToObject(o, "driver", d->driver_name);
    cJSON_AddStringToObject(o, "driver_info", d->driver_info);
    cJSON_AddStringToObject(o, "driver_version", d->driver_version);
    cJSON_AddStringToObject(o, "vulkan", d->api_version_string);
    cJSON_AddNumberToObject(o, "subgroup_size", d->subgroup_size);
    cJSON_AddNumberToObject(o, "min_subgroup_size", d->min_subgroup_size);
    cJSON_AddNumberToObject(o, "max_subgroup_size", d->max_subgroup_size);
    cJSON_AddNumberToObject(o, "shared_memory_bytes", d->max_shared_memory_bytes);
    cJSON_AddNumberToObject(o, "max_storage_buffer_range", (double)d->max_storage_buffer_range);
    cJSON_AddNumberToObject(o, "max_allocation_bytes", (double)d->max_allocation_bytes);
    cJSON_AddNumberToObject(o, "device_local_bytes", (double)d->device_local_bytes);
    cJSON_AddNumberToObject(o, "reported_heap_bytes", (double)d->reported_heap_bytes);
    if (d->memory_note[0]) cJSON_AddStringToObject(o, "memory_note", d->memory_note);
    cJSON_AddBoolToObject(o, "fp16", d->fp16);
    cJSON_AddBoolToObject(o, "bf16", d->bf16);
    cJSON_AddBoolToObject(o, "int8", d->int8);
    cJSON_AddBoolToObject(o, "fp64", d->fp64);
    cJSON_AddBoolToObject(o, "timestamps", d->timestamps);
    cJSON_AddBoolToObject(o, "cooperative_matrix", d->cooperative_matrix);
    cJSON_AddBoolToObject(o, "storage_16bit", d->storage_16bit);
    cJSON_AddBoolToObject(o, "coopmat_gemm", d->coopmat_f16_16x16x16);
    cJSON *shapes = cJSON_AddArrayToObject(o, "cooperative_matrix_shapes");
    for (uint32_t i = 0; i < d->coopmat_shape_count; i++) {
        const t2g_coopmat_shape *s = &d->coopmat_shapes[i];
        cJSON *shape = cJSON_CreateObject();
        cJSON_AddNumberToObject(shape, "m", s->m);
        cJSON_AddNumberToObject(shape, "n", s->n);
        cJSON_AddNumberToObject(shape, "k", s->k);
        cJSON_AddStringToObject(shape, "a", s->a_type);
        cJSON_AddStringToObject(shape, "b", s->b_type);
        cJSON_AddStringToObject(shape, "c", s->c_type);
        cJSON_AddStringToObject(shape, "result", s->result_type);
        cJSON_AddStringToObject(shape, "scope", s->subgroup_scope ? "subgroup" : "other");
        cJSON_AddItemToArray(shapes, shape);
    }
    cJSON_AddBoolToObject(o, "usable", d->usable);
    if (!d->usable) cJSON_AddStringToObject(o, "unusable_reason", d->unusable_reason);
    return o;
}

int cmd_devices(int argc, char **argv) {
    bool json = false;
    cli_args args = cli_args_start(argc, argv, 2, "devices");
    while (cli_args_more(&args)) {
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            fputs(HELP, stdout);
            return EXIT_OK;
        } else if (cli_flag(&args, "--json")) {
            json = true;
        } else {
            return cli_unknown(&args);
        }
    }
    t2g_device_info *infos = NULL;
    uint32_t count = 0;
    t2g_error err = {0};
    if (t2g_list_devices(&infos, &count, &err)) {
        cli_error("%s", err.message);
        return EXIT_USAGE;
    }
    if (count == 0) {
        cli_error("no Vulkan device found. Install a driver; on Debian/Ubuntu, 'apt install mesa-vulkan-drivers' "
                  "gives a CPU device (lavapipe)");
        free(infos);
        return EXIT_USAGE;
    }
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON *list = cJSON_AddArrayToObject(root, "devices");
        for (uint32_t i = 0; i < count; i++) cJSON_AddItemToArray(list, to_json(&infos[i]));
        char *text = cJSON_Print(root);
        puts(text);
        cJSON_free(text);
        cJSON_Delete(root);
    } else {
        for (uint32_t i = 0; i < count; i++) print_text(&infos[i]);
    }
    free(infos);
    return EXIT_OK;
}
